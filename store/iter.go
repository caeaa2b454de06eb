package store

import (
	"context"
	"iter"
)

// All ranges over every item of a paginated list, fetching pages as the
// loop goes, so a caller can stop early without reading the rest:
//
//	for ch, err := range store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
//		return s.ListChannels(ctx, serviceID, o)
//	}) { ... }
//
// An error ends the sequence after being yielded once.
func All[T any](ctx context.Context, list func(context.Context, ListOptions) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		opt := ListOptions{}
		for {
			p, err := list(ctx, opt)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" || len(p.Items) == 0 {
				return
			}
			opt.After = p.Next
		}
	}
}
