"""Leadership cockpit (驾驶舱): the three daily questions, application scenarios, indicators."""
