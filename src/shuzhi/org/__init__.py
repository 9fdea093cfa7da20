"""CDO organisation: units, people, appointments and their two-level filing."""
