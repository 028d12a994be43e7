package kb

import "strings"

// Stem reduces an English word to a stem with the first three steps of
// Porter's algorithm (plurals and -ed/-ing; -y; derivational suffixes such
// as -ational, -ization, -fulness) and the -ll rule of step 5 ("cancelled"
// and "cancel" meet at "cancel"). Step 4 (-ance, -ment, -ive ...) and the
// final -e rule are left out to keep stems conservative on short
// questions; synonyms cover the pairs that matter to a workspace. Input
// must be lowercase ASCII letters; anything else is returned as is.
func Stem(w string) string {
	if len(w) <= 2 {
		return w
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return w
		}
	}
	if base, ok := irregular[w]; ok {
		w = base
	}
	w = step1a(w)
	w = step1b(w)
	w = step1c(w)
	w = step2(w)
	w = step3(w)
	w = step4(w)
	w = step5a(w)
	// Porter's step 5b.
	if strings.HasSuffix(w, "ll") && measure(w[:len(w)-1]) > 1 {
		w = w[:len(w)-1]
	}
	return w
}

// isCons reports whether w[i] is a consonant in Porter's sense: y is a
// consonant at the start or after a vowel.
func isCons(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !isCons(w, i-1)
	}
	return true
}

// measure counts the VC sequences in w ([C](VC)^m[V]).
func measure(w string) int {
	m, i, n := 0, 0, len(w)
	for i < n && isCons(w, i) {
		i++
	}
	for i < n {
		for i < n && !isCons(w, i) {
			i++
		}
		if i >= n {
			break
		}
		for i < n && isCons(w, i) {
			i++
		}
		m++
	}
	return m
}

func hasVowel(w string) bool {
	for i := range len(w) {
		if !isCons(w, i) {
			return true
		}
	}
	return false
}

func doubleCons(w string) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && isCons(w, n-1)
}

// cvc: consonant-vowel-consonant ending, the last not w, x or y ("hop").
func cvc(w string) bool {
	n := len(w)
	if n < 3 || !isCons(w, n-3) || isCons(w, n-2) || !isCons(w, n-1) {
		return false
	}
	c := w[n-1]
	return c != 'w' && c != 'x' && c != 'y'
}

func step1a(w string) string {
	switch {
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ies"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

func step1b(w string) string {
	if strings.HasSuffix(w, "eed") {
		if measure(w[:len(w)-3]) > 0 {
			return w[:len(w)-1]
		}
		return w
	}
	var stem string
	switch {
	case strings.HasSuffix(w, "ed") && hasVowel(w[:len(w)-2]):
		stem = w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]):
		stem = w[:len(w)-3]
	default:
		return w
	}
	switch {
	case strings.HasSuffix(stem, "at"), strings.HasSuffix(stem, "bl"), strings.HasSuffix(stem, "iz"):
		return stem + "e"
	case doubleCons(stem):
		if c := stem[len(stem)-1]; c != 'l' && c != 's' && c != 'z' {
			return stem[:len(stem)-1]
		}
		return stem
	case measure(stem) == 1 && cvc(stem):
		return stem + "e"
	}
	return stem
}

func step1c(w string) string {
	if strings.HasSuffix(w, "y") && hasVowel(w[:len(w)-1]) {
		return w[:len(w)-1] + "i"
	}
	return w
}

type rule struct{ from, to string }

var step2Rules = []rule{
	{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"},
	{"izer", "ize"}, {"abli", "able"}, {"alli", "al"}, {"entli", "ent"},
	{"eli", "e"}, {"ousli", "ous"}, {"ization", "ize"}, {"ation", "ate"},
	{"ator", "ate"}, {"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"},
	{"ousness", "ous"}, {"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"},
}

var step3Rules = []rule{
	{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
	{"ical", "ic"}, {"ful", ""}, {"ness", ""},
}

// applyRules replaces the first matching suffix when the remaining stem
// has measure > 0. The rule tables are constants; they are package
// variables only because Go has no constant slices.
func applyRules(w string, rules []rule) string {
	for _, r := range rules {
		if strings.HasSuffix(w, r.from) {
			stem := w[:len(w)-len(r.from)]
			if measure(stem) > 0 {
				return stem + r.to
			}
			return w
		}
	}
	return w
}

func step2(w string) string { return applyRules(w, step2Rules) }
func step3(w string) string { return applyRules(w, step3Rules) }

var step4Suffixes = []string{
	"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
	"ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
}

// step4 drops a derivational suffix when the stem keeps measure > 1
// ("adjustment" -> "adjust", "activate" -> "activ"); -ion only after s or
// t ("adoption" -> "adopt"). The longest matching suffix is the one
// tested, as in Porter's paper.
func step4(w string) string {
	best := ""
	for _, suf := range step4Suffixes {
		if strings.HasSuffix(w, suf) && len(suf) > len(best) {
			best = suf
		}
	}
	if best == "" {
		return w
	}
	stem := w[:len(w)-len(best)]
	if measure(stem) <= 1 {
		return w
	}
	if best == "ion" && !strings.HasSuffix(stem, "s") && !strings.HasSuffix(stem, "t") {
		return w
	}
	return stem
}

// step5a drops a final -e when the stem has measure > 1, or measure 1
// and does not end consonant-vowel-consonant ("rate" -> "rate",
// "replace" -> "replac", "charge" -> "charg").
func step5a(w string) string {
	if !strings.HasSuffix(w, "e") {
		return w
	}
	stem := w[:len(w)-1]
	if m := measure(stem); m > 1 || (m == 1 && !cvc(stem)) {
		return stem
	}
	return w
}

// irregular maps irregular English forms to their base word before
// stemming, so "bought" meets "buy" and "broken" meets "break": suffix
// rules cannot see these, and they are common in complaints ("it broke",
// "I paid twice", "it never came").
var irregular = pairsOf(`bought buy brought bring broke break broken break paid pay sent send spent spend
sold sell told tell said say gave give given give took take taken take came come went go gone go
made make left leave lost lose found find kept keep held hold ran run wore wear worn wear
tore tear torn tear chose choose chosen choose wrote write written write fell fall fallen fall
forgot forget forgotten forget understood understand meant mean dealt deal began begin begun begin
threw throw thrown throw hid hide hidden hide stole steal stolen steal froze freeze frozen freeze
shrank shrink shrunk shrink stuck stick spoke speak spoken speak sat sit stood stand
thought think caught catch taught teach felt feel heard hear saw see seen see
knew know known know grew grow grown grow drew draw drawn draw showed show shown show
shook shake shaken shake woke wake woken wake bent bend built build lent lend
children child men man women woman feet foot teeth tooth knives knife wives wife`)

func pairsOf(words string) map[string]string {
	f := strings.Fields(words)
	m := make(map[string]string, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}
