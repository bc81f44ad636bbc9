package evbuffer

import (
	"testing"
	"unsafe"
)

// The head's C-visible part is struct ge_evbuffer in capi/goevent.h, and the
// public structs are libevent's; these offsets are the ones written there.
func TestLayoutMatchesGoeventH(t *testing.T) {
	var b Buffer
	head := []struct {
		name      string
		got, want uintptr
	}{
		{"first", unsafe.Offsetof(b.first), 0},
		{"last", unsafe.Offsetof(b.last), 8},
		{"last_with_datap", unsafe.Offsetof(b.lastWithData), 16},
		{"total_len", unsafe.Offsetof(b.totalLen), 24},
		{"n_add_for_cb", unsafe.Offsetof(b.nAddForCB), 32},
		{"n_del_for_cb", unsafe.Offsetof(b.nDelForCB), 40},
		{"slow", unsafe.Offsetof(b.slow), 48},
		{"flags", unsafe.Offsetof(b.flags), 52},
		{"lock", unsafe.Offsetof(b.lock), 56},
		{"idle_flags", unsafe.Offsetof(b.idleFlags), 64},
		{"idle_hook", unsafe.Offsetof(b.idleHook), 72},
		{"idle_arg", unsafe.Offsetof(b.idleArg), 80},
		{"cb_depth", unsafe.Offsetof(b.cbDepth), 88},
		{"max_read", unsafe.Offsetof(b.maxRead), 92},
		{"callbacks", unsafe.Offsetof(b.callbacks), 96},
	}
	var e CBEntry
	entry := []struct {
		name      string
		got, want uintptr
	}{
		{"next", unsafe.Offsetof(e.next), 0},
		{"fn", unsafe.Offsetof(e.fn), 16},
		{"arg", unsafe.Offsetof(e.arg), 24},
		{"flags", unsafe.Offsetof(e.flags), 32},
	}
	for _, f := range entry {
		if f.got != f.want {
			t.Errorf("ge_cb_entry.%s at %d, goevent.h says %d", f.name, f.got, f.want)
		}
	}
	for _, f := range head {
		if f.got != f.want {
			t.Errorf("ge_evbuffer.%s at %d, goevent.h says %d", f.name, f.got, f.want)
		}
	}
	if unsafe.Offsetof(b.state) < 104 {
		t.Errorf("Go-private fields must follow the C-visible ones (state at %d)", unsafe.Offsetof(b.state))
	}
	// struct ge_evbuffer_priv: what capi reads to free a bufferevent's
	// buffers without Go.
	priv := []struct {
		name      string
		got, want uintptr
	}{
		{"state", unsafe.Offsetof(b.state), 104},
		{"refcnt", unsafe.Offsetof(b.refcnt), 108},
		{"cb_queue", unsafe.Offsetof(b.cbQueue), 112},
		{"parent", unsafe.Offsetof(b.parent), 120},
		{"deferred", unsafe.Offsetof(b.deferred), 128},
		{"GE_EVB_ST_OWN_LOCK", uintptr(stOwnLock), 0x10},
		{"CBEntrySize (C frees entries with ge_free)", CBEntrySize, unsafe.Sizeof(CBEntry{})},
	}
	for _, f := range priv {
		if f.got != f.want {
			t.Errorf("ge_evbuffer_priv.%s is %d, goevent.h says %d", f.name, f.got, f.want)
		}
	}

	var info CBInfo
	var p Ptr
	var v IOVec
	sizes := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct evbuffer_cb_info)", unsafe.Sizeof(info), 24},
		{"evbuffer_cb_info.n_added", unsafe.Offsetof(info.NAdded), 8},
		{"evbuffer_cb_info.n_deleted", unsafe.Offsetof(info.NDeleted), 16},
		{"sizeof(struct evbuffer_ptr)", unsafe.Sizeof(p), 24},
		{"evbuffer_ptr.internal_.chain", unsafe.Offsetof(p.Chain), 8},
		{"evbuffer_ptr.internal_.pos_in_chain", unsafe.Offsetof(p.PosInChain), 16},
		{"sizeof(struct evbuffer_iovec)", unsafe.Sizeof(v), 16},
		{"evbuffer_iovec.iov_len", unsafe.Offsetof(v.Len), 8},
	}
	for _, s := range sizes {
		if s.got != s.want {
			t.Errorf("%s = %d, want %d", s.name, s.got, s.want)
		}
	}
	if FlagDrainsToFD != 1 || CBEnabled != 1 || EOLAny != 0 || EOLCRLF != 1 ||
		EOLCRLFStrict != 2 || EOLLF != 3 || EOLNUL != 4 || PtrSet != 0 || PtrAdd != 1 {
		t.Error("a public constant differs from libevent's value")
	}
	if FSCloseOnFree != 1 || FSDisableMmap != 2 || FSDisableSendfile != 4 || FSDisableLocking != 8 {
		t.Error("EVBUF_FS_* values differ from libevent's")
	}
}
