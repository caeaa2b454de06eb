package enquiry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaffCanTakeMore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Staff
		want bool
	}{
		{Staff{Available: true}, true},
		{Staff{Available: false}, false},
		{Staff{Available: true, Load: 2, Capacity: 3}, true},
		{Staff{Available: true, Load: 3, Capacity: 3}, false},
		{Staff{Available: true, Load: 99, Capacity: 0}, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.CanTakeMore(), "%+v", tt.s)
	}
}

func TestPickRoundRobinIsFairAndSkipsTheBusy(t *testing.T) {
	t.Parallel()
	staff := []Staff{
		{ID: "carol", Available: true},
		{ID: "alice", Available: true},
		{ID: "bob", Available: true},
	}
	var got []string
	for n := range int64(6) {
		p, ok := pickRoundRobin(staff, n)
		require.True(t, ok)
		got = append(got, p.ID)
	}
	assert.Equal(t, []string{"alice", "bob", "carol", "alice", "bob", "carol"}, got, "turns go round in id order whatever the directory's order")

	staff[2].Available = false // bob
	got = nil
	for n := range int64(4) {
		p, ok := pickRoundRobin(staff, n)
		require.True(t, ok)
		got = append(got, p.ID)
	}
	assert.Equal(t, []string{"alice", "carol", "alice", "carol"}, got, "turns go round those who can take more")

	_, ok := pickRoundRobin([]Staff{{ID: "x"}}, 0)
	assert.False(t, ok)
	_, ok = pickRoundRobin(nil, 0)
	assert.False(t, ok)
	p, ok := pickRoundRobin(staff, -1) // a counter that wrapped around
	assert.True(t, ok)
	assert.NotEmpty(t, p.ID)
}

func TestLeastBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		staff []Staff
		want  []string
	}{
		{"lowest load", []Staff{
			{ID: "a", Available: true, Load: 3},
			{ID: "b", Available: true, Load: 1},
			{ID: "c", Available: true, Load: 2},
		}, []string{"b"}},
		{"unavailable and full left out", []Staff{
			{ID: "a", Available: false, Load: 0},
			{ID: "b", Available: true, Load: 2, Capacity: 2},
			{ID: "c", Available: true, Load: 5},
		}, []string{"c"}},
		{"same load: lower share of capacity", []Staff{
			{ID: "a", Available: true, Load: 1, Capacity: 2},
			{ID: "b", Available: true, Load: 1, Capacity: 4},
		}, []string{"b"}},
		{"ties kept in id order", []Staff{
			{ID: "z", Available: true, Load: 1},
			{ID: "m", Available: true, Load: 1},
			{ID: "q", Available: true, Load: 4},
		}, []string{"m", "z"}},
		{"nobody", []Staff{{ID: "a"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ids []string
			for _, s := range leastBusy(tt.staff) {
				ids = append(ids, s.ID)
			}
			assert.Equal(t, tt.want, ids)
		})
	}
}

func TestStaticDirectory(t *testing.T) {
	t.Parallel()
	d := &StaticDirectory{
		Staff: []Staff{
			{ID: "alice", FirstName: "Alice", Available: true},
			{ID: "bob", FirstName: "Bob"},
		},
		Groups: map[string][]string{"sales": {"bob", "ghost"}},
	}
	ctx := context.Background()
	all, err := d.Group(ctx, "svc", "")
	require.NoError(t, err)
	assert.Len(t, all, 2)
	sales, err := d.Group(ctx, "svc", "sales")
	require.NoError(t, err)
	require.Len(t, sales, 1, "unknown ids are left out")
	assert.Equal(t, "Bob", sales[0].FirstName)
	named, err := d.Lookup(ctx, "svc", []string{"alice", "nobody"})
	require.NoError(t, err)
	require.Len(t, named, 1)
	assert.Equal(t, "alice", named[0].ID)
	assert.Equal(t, []string{"alice"}, available(all))
}
