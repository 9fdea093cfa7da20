"""Classification, grading and masking of dataset columns (pure logic, no storage)."""
