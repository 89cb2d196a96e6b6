package pipeline

import (
	"context"
	"fmt"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/tip"
)

// kept is the archive's copy of every indexed tip: the index stage and the desk keep tips in it
// (index.Keeper, desk.Keeper), and rebuilds read them back (index.Source).
type kept struct{ arc *archive.Local }

// Keep archives tips as they are about to be indexed: one group commit per batch.
func (k kept) Keep(_ context.Context, tips []*tip.Tip) error {
	b := k.arc.Batch()
	for _, t := range tips {
		ev, err := tip.Marshal(t)
		if err != nil {
			return err
		}
		if err := b.PutRecord(archive.KeptKey(t.ID), ev); err != nil {
			return err
		}
	}
	return b.Commit()
}

// Count is how many tips are kept.
func (k kept) Count(ctx context.Context) (int, error) {
	n := 0
	after := ""
	for {
		keys, err := k.arc.ListRecords(ctx, archive.KeptPrefix, after, 10000)
		if err != nil || len(keys) == 0 {
			return n, err
		}
		n += len(keys)
		after = keys[len(keys)-1]
	}
}

// Page reads up to n kept tips after the key after, in key order.
func (k kept) Page(ctx context.Context, after string, n int) ([]*tip.Tip, string, error) {
	keys, err := k.arc.ListRecords(ctx, archive.KeptPrefix, after, n)
	if err != nil || len(keys) == 0 {
		return nil, "", err
	}
	tips := make([]*tip.Tip, 0, len(keys))
	for _, key := range keys {
		b, err := k.arc.GetRecord(ctx, key)
		if err != nil {
			return nil, "", err
		}
		t, err := tip.Unmarshal(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", key, err)
		}
		tips = append(tips, t)
	}
	return tips, keys[len(keys)-1], nil
}
