package server

// LiveInstances is the number of live instances m counts.
func LiveInstances(m *Main) int { return m.instances.Live() }
