package kb

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// synthEntries generates n FAQ entries by combining product names and
// topics, in Chinese and English alternately, each with three phrasings.
// The vocabulary is deliberately shared across entries (every product has
// every topic), which makes postings lists long: harder than a real FAQ.
func synthEntries(n int) []Entry {
	adjZH := []string{"男士", "女士", "儿童", "加厚", "轻薄", "无线", "便携", "智能", "复古", "运动", "商务", "户外", "家用", "迷你", "经典"}
	nounZH := []string{"羽绒服", "运动鞋", "保温杯", "蓝牙耳机", "双肩包", "电饭煲", "空气炸锅", "床上四件套", "真丝围巾", "羊毛衫", "行李箱", "台灯", "电动牙刷", "瑜伽垫", "咖啡机", "手表", "雨伞", "帐篷", "充电宝", "吹风机"}
	topicZH := []string{"怎么退货", "保修多久", "什么时候发货", "尺码怎么选", "能不能机洗", "有没有赠品", "支持分期吗", "可以开发票吗", "坏了怎么维修", "颜色能换吗", "包邮吗", "多久到货", "是不是正品", "怎么清洗保养", "能用优惠券吗", "缺货什么时候补", "有没有说明书", "适合送礼吗", "积分能抵扣吗", "可以换货吗", "价格会降吗", "能寄到新疆吗", "材质是什么", "有异味正常吗", "怎么安装"}
	adjEN := []string{"mens", "womens", "kids", "thermal", "lightweight", "wireless", "portable", "smart", "vintage", "sport", "business", "outdoor", "home", "mini", "classic"}
	nounEN := []string{"down jacket", "running shoes", "travel mug", "earbuds", "backpack", "rice cooker", "air fryer", "bedding set", "silk scarf", "wool sweater", "suitcase", "desk lamp", "toothbrush", "yoga mat", "coffee maker", "watch", "umbrella", "tent", "power bank", "hair dryer"}
	topicEN := []string{"return policy", "warranty length", "shipping time", "size guide", "machine washable", "free gift", "pay in installments", "invoice available", "repair service", "colour exchange", "free shipping", "delivery days", "authenticity", "cleaning and care", "coupon eligible", "restock date", "user manual", "gift wrapping", "points redemption", "exchange policy", "price drop", "ship to alaska", "material", "strange smell", "installation"}
	out := make([]Entry, 0, n)
	for i := 0; len(out) < n; i++ {
		zh := i%2 == 0
		j := i / 2
		if zh {
			p := adjZH[j%len(adjZH)] + nounZH[(j/len(adjZH))%len(nounZH)]
			t := topicZH[(j/(len(adjZH)*len(nounZH)))%len(topicZH)]
			out = append(out, Entry{
				ID:        fmt.Sprintf("zh-%05d", j),
				Answer:    fmt.Sprintf("关于%s%s：请查看商品详情页说明，或联系客服。", p, t),
				Questions: []string{p + t, "请问" + p + t, "我买的" + p + "，" + t},
				Category:  "synthetic",
				Enabled:   true,
			})
		} else {
			p := adjEN[j%len(adjEN)] + " " + nounEN[(j/len(adjEN))%len(nounEN)]
			t := topicEN[(j/(len(adjEN)*len(nounEN)))%len(topicEN)]
			out = append(out, Entry{
				ID:        fmt.Sprintf("en-%05d", j),
				Answer:    fmt.Sprintf("About the %s %s: see the product page or ask us.", p, t),
				Questions: []string{p + " " + t, "What about the " + t + " of the " + p + "?", "I bought the " + p + ", " + t},
				Category:  "synthetic",
				Enabled:   true,
			})
		}
	}
	return out
}

// benchQueries are visitor-style questions over the synthetic entries:
// paraphrased, so they miss the cache and rank thousands of postings.
var benchQueries = []string{
	"男士羽绒服坏了去哪修", "儿童运动鞋尺码偏大还是偏小", "保温杯多久能到", "无线蓝牙耳机支持分期付款吗",
	"空气炸锅有没有说明书", "真丝围巾能机洗吗", "行李箱能不能寄到新疆", "咖啡机怎么安装",
	"how long is the warranty on the wireless earbuds", "can I return the running shoes",
	"when will the air fryer ship", "is the silk scarf machine washable", "does the tent come with a free gift",
	"can I pay for the coffee maker in installments", "the backpack has a strange smell", "price drop on the smart watch",
}

var bench10k = sync.OnceValues(func() (*Index, error) {
	seg, err := loadSegmenter()
	if err != nil {
		return nil, err
	}
	x := NewIndex(NewTokenizer(seg), DefaultParams())
	for _, e := range synthEntries(10000) {
		x.Upsert(e)
	}
	return x, nil
})

func index10k(b *testing.B) *Index {
	b.Helper()
	x, err := bench10k()
	if err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkAnswer10k measures a knowledge-base answer that misses the
// cache: tokenize, rank 10,000 entries, look up the answer. It reports
// p50 and p99 per answer besides the mean.
func BenchmarkAnswer10k(b *testing.B) {
	x := index10k(b)
	base := NewBase(x, 0, nil) // no cache: every call searches
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		base.Answer(benchQueries[i%len(benchQueries)])
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkCacheHit10k measures a repeated question answered from the
// hot-answer cache.
func BenchmarkCacheHit10k(b *testing.B) {
	base := NewBase(index10k(b), 1000, nil)
	q := "男士羽绒服怎么退货"
	if _, ok := base.Answer(q); !ok {
		b.Fatalf("%q not answered", q)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if a, _ := base.Answer(q); !a.Cached {
			b.Fatal("cache miss")
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkBuild10k measures building the index of 10,000 entries from
// text (segmenting every phrasing and answer), and the heap it holds.
func BenchmarkBuild10k(b *testing.B) {
	seg, err := loadSegmenter()
	if err != nil {
		b.Fatal(err)
	}
	tok := NewTokenizer(seg)
	entries := synthEntries(10000)
	var x *Index
	for b.Loop() {
		x = NewIndex(tok, DefaultParams())
		for _, e := range entries {
			x.Upsert(e)
		}
	}
	b.StopTimer()
	reportHeap(b, func() any { return NewIndex(tok, DefaultParams()) }, func() any {
		y := NewIndex(tok, DefaultParams())
		for _, e := range entries {
			y.Upsert(e)
		}
		return y
	})
	runtime.KeepAlive(x)
}

// BenchmarkLoad10k measures start-up from a saved index: no segmenting.
func BenchmarkLoad10k(b *testing.B) {
	x := index10k(b)
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(bytes.NewReader(buf.Bytes()), x.Tokenizer()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/(1<<20), "MB-snapshot")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// reportHeap reports the live heap of what build returns, over empty.
func reportHeap(b *testing.B, empty, build func() any) {
	var m0, m1 runtime.MemStats
	e := empty()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/(1<<20), "MB-heap")
	runtime.KeepAlive(e)
	runtime.KeepAlive(v)
}
