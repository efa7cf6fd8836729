package journal

// SetPurgeBatch lets tests make Purge work in small batches.
func SetPurgeBatch(n int) (restore func()) {
	old := purgeBatch
	purgeBatch = n
	return func() { purgeBatch = old }
}
