"""Wi-Fi station for the MQTT output: up() before publishing, down() between samples.

Only boards with MicroPython's `network` module (ESP32, ESP32-C3, Pico W) have one;
elsewhere (the Unix port, the virtual board) make_radio returns None and the host's
network is used. Errors never name the network or the password.
"""
import time


class WifiRadio:
    def __init__(self, ssid, password, network, timeout_ms=15000):
        self.ssid = ssid
        self.password = password
        self.network = network
        self.timeout_ms = timeout_ms
        self.wlan = None

    def up(self, feed=None):
        """Connect (feed() keeps the watchdog fed while waiting); OSError after timeout_ms."""
        if self.wlan is None:
            self.wlan = self.network.WLAN(self.network.STA_IF)
        self.wlan.active(True)
        if self.wlan.isconnected():
            return
        self.wlan.connect(self.ssid, self.password)
        waited = 0
        while not self.wlan.isconnected():
            if waited >= self.timeout_ms:
                raise OSError("wifi: not connected after %d ms (check secrets.json)" % self.timeout_ms)
            time.sleep_ms(200)
            waited += 200
            if feed is not None:
                feed()

    def down(self):
        if self.wlan is not None:
            try:
                self.wlan.disconnect()
            except OSError:
                pass
            self.wlan.active(False)


def make_radio(wifi):
    """A WifiRadio for secrets' "wifi" object, or None when this port has no Wi-Fi."""
    if not isinstance(wifi, dict) or not wifi.get("ssid"):
        raise ValueError("secrets.json: \"wifi\" must be an object with \"ssid\" and \"password\"")
    try:
        import network
    except ImportError:
        return None
    return WifiRadio(wifi["ssid"], wifi.get("password", ""), network)
