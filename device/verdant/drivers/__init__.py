"""Sensor drivers. Each takes a bus (or port object) it is given, never creates one,
never imports `machine`, and exposes `measure() -> dict` keyed by the replay CSV
column names (air_temp_c, rh_pct, co2_ppm, light_lux, par_umol_m2_s,
soil_moisture_pct, soil_temp_c; BME280 adds pressure_hpa).
"""
