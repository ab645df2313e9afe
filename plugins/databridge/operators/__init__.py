"""DataBridge's six operators: extract, transform, load dimensions, load facts, validate, report."""

from databridge.operators.stages import (
    ExtractOperator,
    LoadDimensionsOperator,
    LoadFactsOperator,
    ReportOperator,
    TransformOperator,
    ValidateOperator,
)

__all__ = [
    "ExtractOperator",
    "LoadDimensionsOperator",
    "LoadFactsOperator",
    "ReportOperator",
    "TransformOperator",
    "ValidateOperator",
]
