package kb

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// Cache is the hot-answer cache: normalised question text -> answer,
// bounded by a least-recently-used policy. Entries remember which FAQ
// entry or passage they came from so a change to it drops them.
//
// A search runs outside the cache's lock, so an entry can change between
// the search and the Put of its result. Every invalidation bumps an epoch;
// Put is given the epoch read before the search and drops the answer if
// the epoch has moved, so a stale answer is never stored.
type Cache struct {
	mu      sync.Mutex
	max     int
	ll      *list.List // front = most recent; values are *cacheItem
	items   map[string]*list.Element
	byEntry map[string]map[string]struct{}
	epoch   uint64

	counts *Counters
}

type cacheItem struct {
	key string
	ans Answer
}

// NewCache returns a cache holding at most max answers (max <= 0 disables
// caching). Its lookups are counted in counts, which other caches may
// share; nil gives the cache counters of its own.
func NewCache(max int, counts *Counters) *Cache {
	if counts == nil {
		counts = new(Counters)
	}
	return &Cache{
		counts:  counts,
		max:     max,
		ll:      list.New(),
		items:   make(map[string]*list.Element),
		byEntry: make(map[string]map[string]struct{}),
	}
}

// Epoch returns the invalidation epoch to pass to Put.
func (c *Cache) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Get returns the answer cached for the normalised question key and
// counts a hit or a miss.
func (c *Cache) Get(key string) (Answer, bool) {
	c.mu.Lock()
	el, ok := c.items[key]
	if ok {
		c.ll.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		c.counts.misses.Add(1)
		return Answer{}, false
	}
	c.counts.hits.Add(1)
	return el.Value.(*cacheItem).ans, true
}

// Put stores ans under key unless the cache was invalidated since epoch.
func (c *Cache) Put(key string, ans Answer, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max <= 0 || epoch != c.epoch {
		return
	}
	if el, ok := c.items[key]; ok {
		c.unlink(el)
	}
	c.items[key] = c.ll.PushFront(&cacheItem{key: key, ans: ans})
	keys := c.byEntry[ans.ref()]
	if keys == nil {
		keys = make(map[string]struct{})
		c.byEntry[ans.ref()] = keys
	}
	keys[key] = struct{}{}
	for c.ll.Len() > c.max {
		c.unlink(c.ll.Back())
	}
}

func (c *Cache) unlink(el *list.Element) {
	it := c.ll.Remove(el).(*cacheItem)
	delete(c.items, it.key)
	if keys := c.byEntry[it.ans.ref()]; keys != nil {
		delete(keys, it.key)
		if len(keys) == 0 {
			delete(c.byEntry, it.ans.ref())
		}
	}
}

// InvalidateEntry drops every answer that came from the entry or passage
// id.
func (c *Cache) InvalidateEntry(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for key := range c.byEntry[id] {
		c.unlink(c.items[key])
	}
}

// Purge drops every answer.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.ll.Init()
	clear(c.items)
	clear(c.byEntry)
}

// Len returns the number of cached answers.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// CacheStats are the counters behind the hit-ratio metric.
type CacheStats struct {
	Hits, Misses uint64
}

// HitRatio returns hits / (hits + misses), or 0 before the first lookup.
func (s CacheStats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Counters count hot-answer cache lookups. One Counters may be shared by
// many caches (every workspace of a process, and the bases that replace
// one another when a workspace's knowledge base is reloaded), so its
// totals only grow, as Prometheus counters must: a lookup is counted once,
// in whichever cache it was made, even if that cache is dropped later.
type Counters struct {
	hits, misses atomic.Uint64
}

// Stats returns the counts so far. Hits and misses are read one after the
// other, so a lookup made meanwhile may be in one and not yet the other.
func (c *Counters) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
}

// Stats returns the hit and miss counters the cache reports into (shared
// with other caches if it was given shared Counters).
func (c *Cache) Stats() CacheStats { return c.counts.Stats() }
