package kb

import "strings"

// Stop words carry no topic in a customer question: pronouns, particles,
// question words and politeness. Negations (不, 没, not, no) are kept:
// "can't return" and "return" ask different things.

var zhStop = setOf(`的 了 吗 呢 吧 啊 呀 哦 嘛 么 啦 哈 呐 着 过 得 地
我 我们 你 你们 您 他 她 它 他们 咱 咱们 自己 人家
是 在 有 和 与 及 或 或者 就 都 也 还 又 再 很 太 更 最 挺 比较 非常
这 那 这个 那个 这些 那些 这样 那样 这里 那里 这边 那边 这种 那种 此
什么 怎么 怎么样 怎样 如何 为什么 为何 咋 啥 哪 哪里 哪儿 哪些 哪个 多少 几 是否 是不是 有没有 能不能 可不可以 会不会 要不要
请问 请 麻烦 一下 下 谢谢 你好 您好 好 想 想要 要 需要 能 能够 可以 可 会 应该 得到
个 把 被 给 对 从 到 让 向 跟 于 以 为 因为 所以 如果 但是 但 而且 然后 之后 之前 时 的话
一个 一 些 点 一点 里 上 中 吧 呗 嗯 喔 诶 还是 就是 只是 已经 刚 刚刚 现在
怎么办 怎么弄 怎么搞 咋办 咋弄 怎 办 弄 搞 行吗 行不行 可以吗 好吗 么`)

var enStop = setOf(`a an the and or but if then so of to in on at by for from with about as into onto over under
i me my mine we us our you your yours he him his she her it its they them their this that these those there here
is am are was were be been being do does did doing done have has had having will would shall should can could may might must
what which who whom whose when where why how
please thanks thank hi hello hey just also too very really some any all each
im ive id youre youve ill
get got want need like know let tell`)

func setOf(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// enNegations are contractions folded to "not" once the apostrophe is
// gone, so "can't return" and "cannot return" match.
var enNegations = setOf(`dont doesnt didnt cant cannot wont isnt arent wasnt werent couldnt shouldnt havent hasnt hadnt wouldnt`)
