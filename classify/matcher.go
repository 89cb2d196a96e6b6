package classify

// matcher finds every occurrence of a set of patterns in one pass over the text, overlapping
// ones included, with their byte positions (Aho-Corasick, compiled to a full DFA over bytes).
//
// Why not a library: the Go packages on offer report either only which patterns occur
// (cloudflare/ahocorasick) or only leftmost non-overlapping matches (ports of Rust's
// aho-corasick); the classifier needs every occurrence with its position, because group parts
// overlap terms (录 in 录屏) and co-occurrence windows need positions. The whole automaton is
// about a hundred lines. For speed the DFA works on byte classes (the few dozen byte values
// the patterns use, plus "other"), which keeps the table small enough for the cache, and marks
// states that end a pattern in the table itself, so the scan loop reads one entry per byte.
type matcher struct {
	class   [256]uint8 // byte → class
	classes int
	next    []int32   // state*classes + class → state, with outFlag set if the state ends patterns
	out     [][]int32 // state → patterns ending here (via dictionary suffix links)
	lens    []int     // pattern → length in bytes
}

const outFlag = int32(-1 << 31)

// hit is one occurrence of pattern p ending at byte end (exclusive).
type hit struct {
	pattern int32
	end     int
}

func newMatcher(patterns []string) *matcher {
	m := &matcher{lens: make([]int, len(patterns))}
	// Byte classes: class 0 is every byte no pattern uses.
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 && m.classes < 255 {
				m.classes++
				m.class[p[i]] = uint8(m.classes)
			}
		}
	}
	m.classes++
	k := m.classes
	// The trie, with -1 for "no edge" until the failure links fill the table in.
	newState := func() int32 {
		for range k {
			m.next = append(m.next, -1)
		}
		m.out = append(m.out, nil)
		return int32(len(m.out) - 1)
	}
	newState()
	for p, s := range patterns {
		m.lens[p] = len(s)
		state := int32(0)
		for i := 0; i < len(s); i++ {
			c := int32(m.class[s[i]])
			if m.next[state*int32(k)+c] < 0 {
				ns := newState()
				m.next[state*int32(k)+c] = ns
			}
			state = m.next[state*int32(k)+c]
		}
		if len(s) > 0 {
			m.out[state] = append(m.out[state], int32(p))
		}
	}
	// Breadth-first: each state's failure is the longest proper suffix that is also a prefix; a
	// missing edge goes where the failure state's edge goes, which turns the trie into a DFA.
	fail := make([]int32, len(m.out))
	queue := make([]int32, 0, len(m.out))
	for c := range k {
		if s := m.next[c]; s > 0 {
			queue = append(queue, s)
		} else {
			m.next[c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(m.out[s], m.out[fail[s]]...)
		for c := range k {
			i := s*int32(k) + int32(c)
			t := m.next[i]
			if t < 0 {
				m.next[i] = m.next[fail[s]*int32(k)+int32(c)]
				continue
			}
			fail[t] = m.next[fail[s]*int32(k)+int32(c)]
			queue = append(queue, t)
		}
	}
	for i, t := range m.next {
		if len(m.out[t]) > 0 {
			m.next[i] = t | outFlag
		}
	}
	return m
}

// find appends every occurrence in text to hits.
func (m *matcher) find(text string, hits []hit) []hit {
	k := int32(m.classes)
	state := int32(0)
	for i := 0; i < len(text); i++ {
		state = m.next[state*k+int32(m.class[text[i]])]
		if state < 0 {
			state &^= outFlag
			for _, p := range m.out[state] {
				hits = append(hits, hit{pattern: p, end: i + 1})
			}
		}
	}
	return hits
}
