package sharded

import (
	"context"
	"sort"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
)

var _ store.Walker = (*Store)(nil)

// walkChunk is how many hour files WalkOpen reads in one call: a few
// hundred kilobytes in memory at a time, in a handful of API calls for a
// state of 1,000,000 pending deliveries.
const walkChunk = 25

// WalkOpen implements store.Walker. Over a store.Lister holding a version
// 2 state it reads the in-flight deliveries (open/active.json), then the
// hour files walkChunk at a time, each decoded and dropped before the
// next; otherwise (a version 1 document, a store that reads only whole) it
// reads the whole state once.
func (s *Store) WalkOpen(ctx context.Context, fn func(ids []string) error) error {
	lister, ok := s.inner.(store.Lister)
	if !ok {
		return s.walkWhole(ctx, fn)
	}
	top, deeper, version, err := lister.ReadTop(ctx)
	if err != nil || version == "" {
		return err
	}
	if _, ok := top[layout.Index]; !ok || layout.IsVersion1(top) {
		return s.walkWhole(ctx, fn)
	}
	visit := func(path string, data []byte) error {
		p, err := state.DecodePart(s.String(), path, data, layout.Version)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(p.Open))
		for id := range p.Open {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return fn(ids)
	}
	if b, ok := top[layout.Active]; ok {
		if err := visit(layout.Active, b); err != nil {
			return err
		}
	}
	var hours []string
	for path := range deeper {
		if layout.IsHour(path) {
			hours = append(hours, path)
		}
	}
	sort.Strings(hours)
	for len(hours) > 0 {
		n := min(len(hours), walkChunk)
		refs := make(map[string]string, n)
		for _, h := range hours[:n] {
			refs[h] = deeper[h]
		}
		got, err := lister.ReadFiles(ctx, version, refs)
		if err != nil {
			return err
		}
		for _, h := range hours[:n] {
			if err := visit(h, got[h]); err != nil {
				return err
			}
		}
		hours = hours[n:]
	}
	return nil
}

// walkWhole is WalkOpen over the whole state, read once.
func (s *Store) walkWhole(ctx context.Context, fn func(ids []string) error) error {
	data, _, err := s.Read(ctx)
	if err != nil || data == nil {
		return err
	}
	doc, err := state.DecodeStored(s.String(), data)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(doc.Open))
	for id := range doc.Open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fn(ids)
}
