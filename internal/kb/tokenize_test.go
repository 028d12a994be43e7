package kb

import (
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ｈｅｌｌｏ　ＷＯＲＬＤ！", "hello world"},
		{"  退款 多久到账？？ ", "退款 多久到账"},
		{"订单ＫＦ１２３", "订单kf123"},
		{"How long?", "how long"},
		{"tab\tand\nnewline", "tab and newline"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"shipping", "ship"},
		{"shipped", "ship"},
		{"ships", "ship"},
		{"refunds", "refund"},
		{"refunded", "refund"},
		{"returning", "return"},
		{"deliveries", "deliveri"},
		{"delivery", "deliveri"},
		{"cancelled", "cancel"},
		{"hopping", "hop"},
		{"hoping", "hope"},
		{"agreed", "agre"},
		{"cancelling", "cancel"},
		{"cancel", "cancel"},
		{"filled", "fill"},
		{"caresses", "caress"},
		{"ponies", "poni"},
		{"relational", "relat"},
		{"organization", "organ"},
		{"adjustment", "adjust"},
		{"replacement", "replac"},
		{"replace", "replac"},
		{"adoption", "adopt"},
		{"rate", "rate"},
		{"bought", "bui"},
		{"buying", "bui"},
		{"broken", "break"},
		{"paid", "pai"},
		{"pays", "pai"},
		{"hopefulness", "hope"},
		{"is", "is"},
		{"café", "café"},
	} {
		if got := Stem(c.in); got != c.want {
			t.Errorf("Stem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokensEnglish(t *testing.T) {
	tok := NewTokenizerLexicon(Bigrams{}, nil)
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"How long does SHIPPING take?", []string{"long", "ship", "take"}},
		{"I can't return my order 2026112200017", []string{"not", "return", "order", "2026112200017"}},
		{"Ｒｅｆｕｎｄｓ for iPhone15", []string{"refund", "iphon", "15"}},
		{"the and of", nil},
	} {
		if got := tok.Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokensBigrams(t *testing.T) {
	tok := NewTokenizerLexicon(Bigrams{}, nil)
	got := tok.Tokens("退款到账")
	// Characters and pairs; "到" is a stop word on its own, and every
	// pair is followed by its characters like any multi-character word.
	want := []string{"退", "退款", "退", "款", "款", "款到", "款", "到账", "账", "账"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokens = %q, want %q", got, want)
	}
}

func TestTokensChinese(t *testing.T) {
	tok := gseTokenizer(t)
	for _, c := range []struct {
		in       string
		want     []string // must all be present
		excluded []string // must be absent
	}{
		{"我的订单什么时候发货？", []string{"订单", "发货", "时候"}, []string{"我", "的", "什么", "？"}},
		{"可以开增值税专用发票吗", []string{"增值税", "增值", "发票", "专用"}, []string{"吗", "可以"}},
		{"羽绒服可以机洗吗", []string{"羽绒服", "羽绒", "机洗"}, []string{"吗"}},
		{"订单号２０２６１１２２０００１７到哪了", []string{"订单", "2026112200017"}, []string{"了"}},
		{"ＶＩＰ会员积分", []string{"vip", "会员", "积分"}, nil},
		{"不能退货", []string{"不能", "退货"}, nil},
		{"地址填错了怎么办", []string{"地址", "填错"}, []string{"怎么办", "怎", "办", "了"}},
	} {
		got := tok.Tokens(c.in)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("Tokens(%q) = %q, missing %q", c.in, got, w)
			}
		}
		for _, w := range c.excluded {
			if slices.Contains(got, w) {
				t.Errorf("Tokens(%q) = %q, has stop word %q", c.in, got, w)
			}
		}
	}
}
