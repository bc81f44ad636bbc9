package handle

import (
	"sync"
	"testing"
)

func TestPutGetDeleteReuse(t *testing.T) {
	var tab Table[*int]
	a, b := new(int), new(int)
	ha, hb := tab.Put(a), tab.Put(b)
	if ha == 0 || hb == 0 || ha == hb {
		t.Fatalf("handles %d, %d: want distinct and nonzero", ha, hb)
	}
	if tab.Get(ha) != a || tab.Get(hb) != b {
		t.Fatal("Get returned the wrong value")
	}
	tab.Delete(ha)
	if tab.Get(ha) != nil {
		t.Fatal("deleted handle still resolves")
	}
	if hc := tab.Put(new(int)); hc != ha {
		t.Fatalf("freed handle %d not reused (got %d)", ha, hc)
	}
	if tab.Get(0) != nil || tab.Get(1<<40) != nil {
		t.Fatal("handle 0 or an unknown handle resolved")
	}
	tab.Delete(0)
	tab.Delete(1 << 40) // no-op, no panic
}

func TestConcurrentUse(t *testing.T) {
	var tab Table[int]
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h := tab.Put(g*1000 + i)
				if v := tab.Get(h); v != g*1000+i {
					t.Errorf("handle %d holds %d, want %d", h, v, g*1000+i)
					return
				}
				tab.Delete(h)
			}
		}(g)
	}
	wg.Wait()
}
