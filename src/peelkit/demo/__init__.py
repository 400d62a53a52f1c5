"""The national demo dataset (``peelkit demo``): synthetic, in the official formats, calibrated
to the figures of the 2016 PEEL effectiveness report on the Metropolitan Police."""

from peelkit.demo.generate import DemoSpec, calibration, write_demo

__all__ = ["DemoSpec", "calibration", "write_demo"]
