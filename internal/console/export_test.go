package console

// productionCost is the cost new hashes get in production.
var productionCost = hashCost

// LowerHashCost gives new hashes argon2id's smallest cost, for tests that
// create and sign in accounts by the dozen: the cost is stored in each hash,
// so sign-in checks them exactly as it checks production ones.
func LowerHashCost() { hashCost = argonCost{memory: 64, time: 1, threads: 1} }

// UseProductionHashCost restores the production cost until the returned
// function is called. Not for parallel tests.
func UseProductionHashCost() (restore func()) {
	lowered := hashCost
	hashCost = productionCost
	return func() { hashCost = lowered }
}
