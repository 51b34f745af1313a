"""`make bench`, QEMU part: executed instructions of the C kernel's test runner on
Cortex-M boards emulated by qemu-system-arm.

QEMU runs the runner with `-singlestep -d exec,nochain`: every executed instruction is
its own translation block and logs one "Trace" line, so counting those lines counts
instructions exactly. A model is run on 1 and on 3 input vectors; the difference / 2 is
one inference (check, CRC and startup cancel out), through the same per-call guard the
MicroPython binding runs before every inference.
"""
import os
import shutil
import subprocess

# machine, cpu, runner ELF (mk/native.mk builds them)
BOARDS = {
    "Cortex-M0+": ("mps2-an385", "cortex-m3", "build/native/m0/nn_runner.elf", "native-qemu"),
    "Cortex-M4": ("mps2-an386", "cortex-m4", "build/native/m4/nn_runner.elf", "native-qemu-m4"),
    "Cortex-M33": ("mps2-an505", "cortex-m33", "build/native/m33/nn_runner.elf", "native-qemu-m33"),
}


def available():
    return shutil.which("qemu-system-arm") is not None and shutil.which("arm-none-eabi-gcc") is not None


def qemu_command(board, repo):
    machine, cpu, elf, _ = BOARDS[board]
    return ["qemu-system-arm", "-M", machine, "-cpu", cpu, "-nographic", "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native", "-singlestep", "-d", "exec,nochain",
            "-D", "/dev/stdout", "-kernel", os.path.join(repo, elf)]


def count_run(step, board, repo, run_dir, model, inputs):
    """Executed instructions of one runner run on model with the inputs; also returns its output bytes."""
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "model.bin"), "wb") as f:
        f.write(model)
    with open(os.path.join(run_dir, "input.bin"), "wb") as f:
        f.write(inputs)
    cmd = qemu_command(board, repo)
    step.commands.append("cd %s && %s | grep -c ^Trace" % (run_dir, " ".join(cmd)))
    proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    count = sum(1 for line in proc.stdout if line.startswith(b"Trace"))
    if proc.wait() not in (0, 2):  # 2: the model was refused (the startup-only run)
        raise RuntimeError("qemu runner on %s failed (%d)" % (board, proc.returncode))
    if not os.path.exists(os.path.join(run_dir, "output.bin")):
        return count, b""
    with open(os.path.join(run_dir, "output.bin"), "rb") as f:
        return count, f.read()


def per_inference(step, board, repo, workdir, name, model, input_elements):
    """(instructions of one inference: 3 inputs minus 1 input, halved; instructions to load)."""
    make_target = BOARDS[board][3]
    step.run(["make", "-s", make_target], cwd=repo)
    vectors = bytes((i * 37 + 11) & 255 for i in range(3 * input_elements))
    one, _ = count_run(step, board, repo, os.path.join(workdir, "%s-%s-1" % (name, board)), model,
                       vectors[:input_elements])
    three, _ = count_run(step, board, repo, os.path.join(workdir, "%s-%s-3" % (name, board)), model, vectors)
    per = (three - one) / 2
    # load: one run minus its inference minus the runner's startup and file I/O (a run that
    # reads a model the parser refuses at the first check: same I/O, no check work)
    empty, _ = count_run(step, board, repo, os.path.join(workdir, "%s-%s-0" % (name, board)), b"VRDT", b"")
    return per, one - per - empty
