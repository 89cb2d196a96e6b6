package bus

import (
	"slices"
	"testing"
)

func TestCommitOrder(t *testing.T) {
	type step struct {
		finish int // index into the messages added
		want   []int64
	}
	cases := []struct {
		name    string
		offsets [][2]int64 // partition, offset, in fetch order
		steps   []step
	}{
		{"in order", [][2]int64{{0, 1}, {0, 2}, {0, 3}}, []step{{0, []int64{1}}, {1, []int64{2}}, {2, []int64{3}}}},
		{"later first waits for the earlier", [][2]int64{{0, 1}, {0, 2}, {0, 3}}, []step{{2, nil}, {1, nil}, {0, []int64{3}}}},
		{"partitions are independent", [][2]int64{{0, 1}, {1, 7}, {0, 2}}, []step{{1, []int64{7}}, {2, nil}, {0, []int64{2}}}},
		{"never backwards after a rebalance", [][2]int64{{0, 10}, {0, 11}, {0, 8}, {0, 9}}, []step{{0, []int64{10}}, {1, []int64{11}}, {2, nil}, {3, nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o commitOrder
			var in []*inHand
			for _, po := range c.offsets {
				in = append(in, o.add(Message{Partition: int(po[0]), Offset: po[1]}))
			}
			for i, s := range c.steps {
				var got []int64
				o.finish(in[s.finish], func(m Message) { got = append(got, m.Offset) })
				if !slices.Equal(got, s.want) {
					t.Errorf("step %d (finish %d): committed %v, want %v", i, s.finish, got, s.want)
				}
			}
		})
	}
}
