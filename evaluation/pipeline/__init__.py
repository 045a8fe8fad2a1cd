"""Running a study: declaration + data → metrics → designs → results bundle (disclosure applied here)."""

from evaluation.pipeline.run import BUNDLE_FORMAT, run_study

__all__ = ["run_study", "BUNDLE_FORMAT"]
