package logtail

import (
	"fmt"
	"slices"
	"testing"
)

func TestLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want []string
	}{
		{"", 3, nil},
		{"\n", 3, nil},
		{"a", 3, []string{"a"}},
		{"a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"a\n\nb", 5, []string{"a", "", "b"}},
		{"a\nb", 0, nil},
	} {
		if got := Lines(c.in, c.n); !slices.Equal(got, c.want) {
			t.Errorf("Lines(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	if got := String([]byte("1\n2\n3\n"), 2); got != "2\n3" {
		t.Errorf("String = %q", got)
	}
}

func TestRing(t *testing.T) {
	r := NewRing(3)
	if r.Cap() != 3 || NewRing(0).Cap() != 1 {
		t.Errorf("Cap = %d, %d", r.Cap(), NewRing(0).Cap())
	}
	if got := r.Last(5); len(got) != 0 || r.String() != "" {
		t.Errorf("empty ring: %q %q", got, r.String())
	}
	for i := range 7 {
		r.Push(fmt.Sprint(i))
	}
	if got := r.Last(5); !slices.Equal(got, []string{"4", "5", "6"}) {
		t.Errorf("Last(5) = %q", got)
	}
	if got := r.Last(2); !slices.Equal(got, []string{"5", "6"}) {
		t.Errorf("Last(2) = %q", got)
	}
	if r.String() != "4\n5\n6" {
		t.Errorf("String = %q", r.String())
	}
}
