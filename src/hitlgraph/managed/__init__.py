"""Managed values: state keys the engine fills in for each task (as `langgraph.managed`)."""

from hitlgraph.managed.is_last_step import IsLastStep, RemainingSteps

__all__ = ["IsLastStep", "RemainingSteps"]
