"""One composite PTransform per pipeline stage, plus the plain-Python logic each one wraps."""
