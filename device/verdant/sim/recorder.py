"""A bus wrapper that records every transfer, so tests can assert the exact bytes."""


class RecordingI2C:
    """Wraps an I2C bus; .log is a list of ('w' | 'r', address, bytes) in bus order."""

    def __init__(self, bus):
        self._bus = bus
        self.log = []

    def writes(self, address=None):
        return [data for kind, addr, data in self.log if kind == "w" and address in (None, addr)]

    def reads(self, address=None):
        return [data for kind, addr, data in self.log if kind == "r" and address in (None, addr)]

    def scan(self):
        return self._bus.scan()

    def writeto(self, address, buf, stop=True):
        self.log.append(("w", address, bytes(buf)))
        return self._bus.writeto(address, buf, stop)

    def readfrom_into(self, address, buf, stop=True):
        self._bus.readfrom_into(address, buf, stop)
        self.log.append(("r", address, bytes(buf)))

    def readfrom(self, address, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(address, buf, stop)
        return bytes(buf)

    def writeto_mem(self, address, memaddr, buf, addrsize=8):
        self.writeto(address, bytes((memaddr,)) + bytes(buf))

    def readfrom_mem_into(self, address, memaddr, buf, addrsize=8):
        self.writeto(address, bytes((memaddr,)), False)
        self.readfrom_into(address, buf)

    def readfrom_mem(self, address, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(address, memaddr, buf, addrsize)
        return bytes(buf)
