package enquiry

import (
	"cmp"
	"context"
	"slices"
)

// Staff is a staff member as the host's directory knows them right now.
type Staff struct {
	ID        string
	FirstName string
	LastName  string
	// Available: on duty and accepting new enquiries.
	Available bool
	// Load is how many enquiries the staff member serves now.
	Load int
	// Capacity is the most enquiries the staff member serves at once; 0
	// means no limit of their own (the service's RULE-4 limit still holds).
	Capacity int
}

// CanTakeMore reports whether the staff member may be offered one more
// enquiry: available and below their capacity.
func (s Staff) CanTakeMore() bool {
	return s.Available && (s.Capacity <= 0 || s.Load < s.Capacity)
}

// StaffDirectory is the host's knowledge of its staff, consulted by dispatch
// (CHAN-2) and to name staff members in auto-replies (CHAN-4). It is called
// while a webhook delivery is being answered, so it should be fast (an
// in-memory view of who is on duty is typical). Errors are returned to the
// caller; for a webhook delivery that means Facebook delivers it again.
type StaffDirectory interface {
	// Group returns the members of a service's staff group, with their
	// current availability, load and capacity. The empty group means every
	// staff member of the service.
	Group(ctx context.Context, serviceID, group string) ([]Staff, error)
	// Lookup returns the named staff members of a service. Ids the directory
	// does not know (or that belong to another service) are left out.
	Lookup(ctx context.Context, serviceID string, ids []string) ([]Staff, error)
}

// StaticDirectory is a fixed StaffDirectory, for tests, demos and hosts
// whose staff list changes only with a deployment. It serves one service
// (any serviceID gets the same staff). It is safe for concurrent use as long
// as it is not modified.
type StaticDirectory struct {
	Staff  []Staff
	Groups map[string][]string // group name -> staff ids
}

var _ StaffDirectory = (*StaticDirectory)(nil)

// Group returns the members of group, or every staff member for "".
func (d *StaticDirectory) Group(_ context.Context, _ string, group string) ([]Staff, error) {
	if group == "" {
		return slices.Clone(d.Staff), nil
	}
	return d.lookup(d.Groups[group]), nil
}

// Lookup returns the staff members with the given ids that exist.
func (d *StaticDirectory) Lookup(_ context.Context, _ string, ids []string) ([]Staff, error) {
	return d.lookup(ids), nil
}

func (d *StaticDirectory) lookup(ids []string) []Staff {
	var out []Staff
	for _, id := range ids {
		for _, s := range d.Staff {
			if s.ID == id {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// pickRoundRobin chooses for turn n among the staff who can take more, put
// in a stable order (by id, the same in every process): turn n goes to the
// (n mod count)th of them. With a counter shared by every process
// (store.NextTurn) offers go round evenly.
func pickRoundRobin(staff []Staff, n int64) (Staff, bool) {
	var ready []Staff
	for _, s := range staff {
		if s.CanTakeMore() {
			ready = append(ready, s)
		}
	}
	if len(ready) == 0 {
		return Staff{}, false
	}
	slices.SortFunc(ready, func(a, b Staff) int { return cmp.Compare(a.ID, b.ID) })
	return ready[int(uint64(n)%uint64(len(ready)))], true
}

// leastBusy returns the staff members who can take more with the lowest load
// (ties: the lowest share of their capacity), in id order; the caller breaks
// a remaining tie with the round-robin turn.
func leastBusy(staff []Staff) []Staff {
	var best []Staff
	for _, s := range staff {
		if !s.CanTakeMore() {
			continue
		}
		if len(best) == 0 {
			best = append(best, s)
			continue
		}
		switch c := compareBusy(s, best[0]); {
		case c < 0:
			best = append(best[:0], s)
		case c == 0:
			best = append(best, s)
		}
	}
	slices.SortFunc(best, func(a, b Staff) int { return cmp.Compare(a.ID, b.ID) })
	return best
}

// compareBusy orders two staff members by load, then by the share of their
// capacity in use (no capacity counts as an empty share).
func compareBusy(a, b Staff) int {
	if c := cmp.Compare(a.Load, b.Load); c != 0 {
		return c
	}
	// a.Load/a.Capacity vs b.Load/b.Capacity without division.
	ac, bc := int64(a.Capacity), int64(b.Capacity)
	if ac <= 0 || bc <= 0 {
		return cmp.Compare(boolInt(ac > 0), boolInt(bc > 0))
	}
	return cmp.Compare(int64(a.Load)*bc, int64(b.Load)*ac)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// available returns the ids of the staff who can take more, in id order.
func available(staff []Staff) []string {
	var ids []string
	for _, s := range staff {
		if s.CanTakeMore() {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
