"""Before/after measurement of targets without a comparison group: evidence level 1."""

from evaluation.designs.pre_post.estimator import PrePost, paired_difference_newcombe

__all__ = ["PrePost", "paired_difference_newcombe"]
