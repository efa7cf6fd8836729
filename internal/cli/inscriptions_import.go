package cli

import (
	"context"
	"fmt"

	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// afterImport runs after an import's data swap, in the same run: the
// registration events that waited for a decision are validated or marked
// now that the decisions are there, and the validations Aglaé made
// definitive itself are settled.
func afterImport(ctx context.Context, env Env, pool *postgres.Pool) error {
	ins, err := postgres.NewInscriptions(pool)
	if err != nil {
		return err
	}
	n, err := ins.Reapply(ctx)
	if err != nil {
		return fmt.Errorf("import done, but the registrations waiting for a decision were not applied (run the import again): %w", err)
	}
	if n > 0 {
		fmt.Fprintf(env.Stderr, "import: %d registrations waiting for a decision applied\n", n)
	}
	return nil
}
