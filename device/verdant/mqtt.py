"""A small MQTT 3.1.1 client with the API of micropython-lib's umqtt.simple.

Our own because umqtt.simple cannot be installed from PyPI by pip (setup-less sdists)
and the Unix-port wheel does not carry it. Runs on MicroPython boards, the Unix port
(the virtual board) and CPython (the host's serial-to-MQTT bridge).

What it does: CONNECT with a last will, user and password; PUBLISH at QoS 0 or 1
(QoS 1 waits for the PUBACK of that packet id); PINGREQ/PINGRESP; DISCONNECT.
No subscriptions: a board only publishes. Every failure raises MQTTException or
OSError, and the caller reconnects.

Example:
    c = MQTTClient("gh-north", "192.168.1.10", 1883, keepalive=120)
    c.set_last_will(b"verdant/gh-north/availability", b"offline", retain=True)
    c.connect()
    c.publish(b"verdant/gh-north/availability", b"online", retain=True, qos=1)
    c.disconnect()
"""
import socket
import struct

CONNECT, CONNACK, PUBLISH, PUBACK, PINGREQ, PINGRESP, DISCONNECT = 1, 2, 3, 4, 12, 13, 14
CONNACK_REASONS = {1: "unacceptable protocol version", 2: "client id rejected", 3: "server unavailable",
                   4: "bad user name or password", 5: "not authorized"}


class MQTTException(Exception):
    pass


# The broker's address, resolved once: a DNS lookup cannot be given a timeout on a board
# (it can outlast the watchdog), so reconnects reuse it. After RESOLVE_AGAIN_AFTER failed
# connects in a row the name is looked up again (the broker may have a new address).
RESOLVE_AGAIN_AFTER = 4
_addresses = {}  # (server, port) -> [address, failed connects since it was resolved]


def _address(server, port):
    entry = _addresses.get((server, port))
    if entry is None or entry[1] >= RESOLVE_AGAIN_AFTER:
        entry = [socket.getaddrinfo(server, port, 0, socket.SOCK_STREAM)[0][-1], 0]
        _addresses[(server, port)] = entry
    return entry


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def _field(value):
    """A length-prefixed MQTT string or binary field."""
    data = _bytes(value)
    if len(data) > 65535:
        raise MQTTException("field of %d bytes is longer than MQTT allows" % len(data))
    return struct.pack("!H", len(data)) + data


def _remaining_length(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first_byte, body):
    """Fixed header + body of one control packet."""
    if len(body) > 268435455:
        raise MQTTException("packet of %d bytes is longer than MQTT allows" % len(body))
    return bytes([first_byte]) + _remaining_length(len(body)) + body


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0, ssl=None,
                 timeout_s=10):
        self.client_id = _bytes(client_id)
        self.server = server
        self.port = port or (8883 if ssl else 1883)
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.ssl = ssl
        self.timeout_s = timeout_s
        self.sock = None
        self.pid = 0
        self.lw_topic = None
        self.lw_msg = None
        self.lw_qos = 0
        self.lw_retain = False

    def set_last_will(self, topic, msg, retain=False, qos=0):
        if not 0 <= qos <= 2 or not topic:
            raise MQTTException("last will needs a topic and qos 0..2")
        self.lw_topic, self.lw_msg, self.lw_retain, self.lw_qos = _bytes(topic), _bytes(msg), retain, qos

    # ---- socket ----
    def _send(self, data):
        view = memoryview(data)
        while len(view):
            n = self.sock.send(view)
            if not n:
                raise OSError("MQTT connection closed while sending")
            view = view[n:]

    def _recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise OSError("MQTT connection closed by the broker")
            out += chunk
        return out

    def _read_packet(self):
        """(packet type, flags, body) of the next packet from the broker."""
        first = self._recv(1)[0]
        length, shift = 0, 0
        while True:
            byte = self._recv(1)[0]
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift > 21:
                raise MQTTException("malformed remaining length from the broker")
        return first >> 4, first & 0x0F, self._recv(length) if length else b""

    # ---- umqtt.simple API ----
    def connect(self, clean_session=True, timeout=None):
        """Open the connection; returns True when the broker kept a session for us."""
        address = _address(self.server, self.port)
        self.sock = socket.socket()
        try:
            self.sock.settimeout(timeout if timeout is not None else self.timeout_s)
            try:
                self.sock.connect(address[0])
            except OSError:
                address[1] += 1
                raise
            address[1] = 0
            if self.ssl:
                if hasattr(self.ssl, "create_default_context"):  # CPython (the host bridge)
                    self.sock = self.ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.server)
                else:  # MicroPython
                    self.sock = self.ssl.wrap_socket(self.sock, server_hostname=self.server)
            flags = 0x02 if clean_session else 0
            payload = _field(self.client_id)
            if self.lw_topic:
                flags |= 0x04 | (self.lw_qos << 3) | (0x20 if self.lw_retain else 0)
                payload += _field(self.lw_topic) + _field(self.lw_msg)
            if self.user is not None:
                flags |= 0x80
                payload += _field(self.user)
                if self.password is not None:
                    flags |= 0x40
                    payload += _field(self.password)
            body = _field(b"MQTT") + bytes([4, flags]) + struct.pack("!H", self.keepalive) + payload
            self._send(packet(CONNECT << 4, body))
            kind, _, body = self._read_packet()
            if kind != CONNACK or len(body) != 2:
                raise MQTTException("broker answered CONNECT with packet type %d" % kind)
            if body[1]:
                raise MQTTException("broker refused the connection: %s" % CONNACK_REASONS.get(body[1], body[1]))
            return bool(body[0] & 1)
        except BaseException:
            self._close()
            raise

    def publish(self, topic, msg, retain=False, qos=0):
        if qos not in (0, 1):
            raise MQTTException("qos %r not supported (0 or 1)" % (qos,))
        body = _field(topic)
        pid = 0
        if qos:
            self.pid = self.pid % 65535 + 1
            pid = self.pid
            body += struct.pack("!H", pid)
        self._send(packet((PUBLISH << 4) | (qos << 1) | (1 if retain else 0), body + _bytes(msg)))
        while qos:
            kind, _, body = self._read_packet()
            if kind == PUBACK and len(body) == 2 and struct.unpack("!H", body)[0] == pid:
                return
            if kind not in (PUBACK, PINGRESP):
                raise MQTTException("expected PUBACK for packet %d, got packet type %d" % (pid, kind))

    def ping(self):
        """PINGREQ; waits for the PINGRESP so a dead link shows up here."""
        self._send(packet(PINGREQ << 4, b""))
        while True:
            kind, _, _ = self._read_packet()
            if kind == PINGRESP:
                return

    def disconnect(self):
        try:
            if self.sock is not None:
                self._send(packet(DISCONNECT << 4, b""))
        finally:
            self._close()

    def _close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def parse_url(url):
    """mqtt://[user[:password]@]host[:port] -> dict(host, port, user, password, ssl).

    Errors never quote the URL, which may hold a password."""
    if not isinstance(url, str):
        raise ValueError("mqtt url must be a string like mqtt://host:1883")
    if url.startswith("mqtt://"):
        rest, tls = url[7:], False
    elif url.startswith("mqtts://"):
        rest, tls = url[8:], True
    else:
        raise ValueError("mqtt url must start with mqtt:// or mqtts:// (url not shown: it may hold a password)")
    rest = rest.split("/", 1)[0]
    user = password = None
    if "@" in rest:
        cred, rest = rest.rsplit("@", 1)
        if ":" in cred:
            user, password = cred.split(":", 1)
        else:
            user = cred
    host, port = rest, 8883 if tls else 1883
    if ":" in rest:
        host, port_text = rest.rsplit(":", 1)
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError("mqtt url: port is not a number")
        if not 0 < port < 65536:
            raise ValueError("mqtt url: port out of range")
    if not host:
        raise ValueError("mqtt url: no host")
    return {"host": host, "port": port, "user": user, "password": password, "ssl": tls}
