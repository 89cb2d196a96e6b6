package classify

// matcher finds every occurrence of a set of patterns in one pass over the text, overlapping
// ones included, with their byte positions (Aho-Corasick, compiled to a full DFA over bytes).
//
// Why not a library: the Go packages on offer report either only which patterns occur
// (cloudflare/ahocorasick) or only leftmost non-overlapping matches (ports of Rust's
// aho-corasick); the classifier needs every occurrence with its position, because a term inside
// a longer term still counts (高炮 in 714高炮) and co-occurrence windows need positions. The
// whole automaton is about a hundred lines, and the DFA form scans at one table lookup per byte.
type matcher struct {
	next [][256]int32 // state × byte → state
	out  [][]int32    // state → patterns ending here (via dictionary suffix links)
	lens []int        // pattern → length in bytes
}

// hit is one occurrence of pattern p ending at byte end (exclusive).
type hit struct {
	pattern int32
	end     int
}

func newMatcher(patterns []string) *matcher {
	m := &matcher{next: make([][256]int32, 1), out: make([][]int32, 1), lens: make([]int, len(patterns))}
	// The trie, with -1 for "no edge" until the failure links fill the table in.
	for i := range m.next[0] {
		m.next[0][i] = -1
	}
	for p, s := range patterns {
		m.lens[p] = len(s)
		state := int32(0)
		for i := 0; i < len(s); i++ {
			c := s[i]
			if m.next[state][c] < 0 {
				m.next = append(m.next, [256]int32{})
				m.out = append(m.out, nil)
				ns := int32(len(m.next) - 1)
				for j := range m.next[ns] {
					m.next[ns][j] = -1
				}
				m.next[state][c] = ns
			}
			state = m.next[state][c]
		}
		if len(s) > 0 {
			m.out[state] = append(m.out[state], int32(p))
		}
	}
	// Breadth-first: each state's failure is the longest proper suffix that is also a prefix; a
	// missing edge goes where the failure state's edge goes, which turns the trie into a DFA.
	fail := make([]int32, len(m.next))
	queue := make([]int32, 0, len(m.next))
	for c := range 256 {
		if s := m.next[0][c]; s > 0 {
			fail[s] = 0
			queue = append(queue, s)
		} else {
			m.next[0][c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(m.out[s], m.out[fail[s]]...)
		for c := range 256 {
			t := m.next[s][c]
			if t < 0 {
				m.next[s][c] = m.next[fail[s]][c]
				continue
			}
			fail[t] = m.next[fail[s]][c]
			queue = append(queue, t)
		}
	}
	return m
}

// find appends every occurrence in text to hits.
func (m *matcher) find(text string, hits []hit) []hit {
	state := int32(0)
	for i := 0; i < len(text); i++ {
		state = m.next[state][text[i]]
		for _, p := range m.out[state] {
			hits = append(hits, hit{pattern: p, end: i + 1})
		}
	}
	return hits
}
