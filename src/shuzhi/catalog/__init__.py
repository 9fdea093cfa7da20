"""Data resource catalogue (政务数据资源目录) to the national metadata standard."""
