"""Capacitive soil-moisture probe (e.g. "v1.2/v2.0" boards) on an ADC input.

The probe's output voltage falls as the soil gets wetter. Two calibration points
map it to percent: `dry` (raw read_u16 in air / dry soil = 0 %) and `wet` (in
water / saturated soil = 100 %). Readings a little past either end are clamped;
readings far outside (more than `margin_pct` of the span) mean a disconnected or
shorted probe and raise SensorError.

Usage:
    import machine
    from verdant.drivers.soil_moisture import CapacitiveSoilMoisture
    soil = CapacitiveSoilMoisture(machine.ADC(26), dry=52000, wet=22000)
    soil.measure()      # {'soil_moisture_pct': 41.7}
"""
from verdant.drivers.base import SensorError
from verdant.quantities import BY_DRIVER


class CapacitiveSoilMoisture:
    QUANTITIES = BY_DRIVER["soil_moisture"]

    def __init__(self, adc, dry, wet, samples=8, margin_pct=20):
        for name, value in (("dry", dry), ("wet", wet)):
            if not isinstance(value, int) or not 0 <= value <= 65535:
                raise ValueError("soil moisture %s must be an int 0..65535, got %r" % (name, value))
        if dry == wet:
            raise ValueError("soil moisture dry and wet calibration are both %d" % dry)
        if not isinstance(samples, int) or not 1 <= samples <= 64:
            raise ValueError("soil moisture samples must be 1..64, got %r" % (samples,))
        self._adc = adc
        self.address = adc
        self.dry = dry
        self.wet = wet
        self.samples = samples
        self.margin_pct = margin_pct
        self._reading = {"soil_moisture_pct": None}  # measure()'s dict, kept

    def read_raw(self):
        """Mean of `samples` read_u16 values (0..65535)."""
        total = 0
        for _ in range(self.samples):
            total += self._adc.read_u16()
        return total // self.samples

    def percent(self, raw):
        """Unclamped moisture percent for a raw reading."""
        return (self.dry - raw) * 100 / (self.dry - self.wet)

    def measure(self):
        """Returns {'soil_moisture_pct': volumetric-ish moisture, 0..100 %}: a dict the
        driver keeps and updates on every call."""
        raw = self.read_raw()
        pct = self.percent(raw)
        if pct < -self.margin_pct or pct > 100 + self.margin_pct:
            raise SensorError("soil moisture raw %d far outside calibration dry %d / wet %d (probe disconnected?)"
                              % (raw, self.dry, self.wet))
        self._reading["soil_moisture_pct"] = min(100.0, max(0.0, pct))
        return self._reading
