package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool is the connection pool [Open] returns and the stores are made on,
// named here so that the packages which open one and hand it over never
// import the driver.
type Pool = pgxpool.Pool

// PoolStat is a snapshot of a [Pool]'s connections, for its metrics.
type PoolStat = pgxpool.Stat
