package mapping

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// monthTable is the names of the months in one language: full names and abbreviations,
// in lower case, index 0 for January. Several spellings may stand for one month.
type monthTable [12][]string

// english is always read, whatever the locale.
var english = monthTable{
	{"january", "jan"}, {"february", "feb"}, {"march", "mar"}, {"april", "apr"}, {"may"}, {"june", "jun"},
	{"july", "jul"}, {"august", "aug"}, {"september", "sept", "sep"}, {"october", "oct"}, {"november", "nov"}, {"december", "dec"},
}

// A language is what a locale: says about a column's words: the names of the months
// (several spellings each: nominative, genitive as dates use it, abbreviations, without
// their dot) and the words for yes and no. The languages are those ONLYOFFICE's own
// interface speaks. Booleans in every language are always read; month names in the
// locale's language (and English).
type language struct {
	months  monthTable
	yes, no []string
}

var languages = map[string]language{
	"ar": {months: monthTable{{"يناير", "كانون الثاني"}, {"فبراير", "شباط"}, {"مارس", "آذار"}, {"أبريل", "ابريل", "نيسان"}, {"مايو", "أيار"}, {"يونيو", "حزيران"},
		{"يوليو", "تموز"}, {"أغسطس", "آب"}, {"سبتمبر", "أيلول"}, {"أكتوبر", "اكتوبر", "تشرين الأول"}, {"نوفمبر", "تشرين الثاني"}, {"ديسمبر", "كانون الأول"}},
		yes: []string{"نعم"}, no: []string{"لا"}},
	"az": {months: monthTable{{"yanvar", "yan"}, {"fevral", "fev"}, {"mart", "mar"}, {"aprel", "apr"}, {"may"}, {"iyun", "iyn"},
		{"iyul", "iyl"}, {"avqust", "avq"}, {"sentyabr", "sen"}, {"oktyabr", "okt"}, {"noyabr", "noy"}, {"dekabr", "dek"}},
		yes: []string{"bəli", "hə"}, no: []string{"xeyr", "yox"}},
	"be": {months: monthTable{{"студзень", "студзеня", "студз"}, {"люты", "лютага", "лют"}, {"сакавік", "сакавіка", "сак"}, {"красавік", "красавіка", "крас"}, {"травень", "траўня", "трав"}, {"чэрвень", "чэрвеня", "чэрв"},
		{"ліпень", "ліпеня", "ліп"}, {"жнівень", "жніўня", "жн"}, {"верасень", "верасня", "вер"}, {"кастрычнік", "кастрычніка", "кастр"}, {"лістапад", "лістапада", "ліст"}, {"снежань", "снежня", "снеж"}},
		yes: []string{"так"}, no: []string{"не"}},
	"bg": {months: monthTable{{"януари", "яну"}, {"февруари", "фев"}, {"март", "мар"}, {"април", "апр"}, {"май"}, {"юни"},
		{"юли"}, {"август", "авг"}, {"септември", "сеп"}, {"октомври", "окт"}, {"ноември", "ное"}, {"декември", "дек"}},
		yes: []string{"да"}, no: []string{"не"}},
	"ca": {months: monthTable{{"gener", "gen"}, {"febrer", "febr"}, {"març", "marc"}, {"abril", "abr"}, {"maig"}, {"juny"},
		{"juliol", "jul"}, {"agost", "ag"}, {"setembre", "set"}, {"octubre", "oct"}, {"novembre", "nov"}, {"desembre", "des"}},
		yes: []string{"sí", "si"}, no: []string{"no"}},
	"cs": {months: monthTable{{"leden", "ledna", "led"}, {"únor", "února", "úno"}, {"březen", "března", "bře"}, {"duben", "dubna", "dub"}, {"květen", "května", "kvě"}, {"červen", "června", "čvn"},
		{"červenec", "července", "čvc"}, {"srpen", "srpna", "srp"}, {"září", "zář"}, {"říjen", "října", "říj"}, {"listopad", "listopadu", "lis"}, {"prosinec", "prosince", "pro"}},
		yes: []string{"ano"}, no: []string{"ne"}},
	"da": {months: monthTable{{"januar", "jan"}, {"februar", "feb"}, {"marts", "mar"}, {"april", "apr"}, {"maj"}, {"juni", "jun"},
		{"juli", "jul"}, {"august", "aug"}, {"september", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"december", "dec"}},
		yes: []string{"ja", "sand"}, no: []string{"nej", "falsk"}},
	"de": {months: monthTable{{"januar", "jänner", "jan", "jän"}, {"februar", "feber", "feb"}, {"märz", "maerz", "mär", "mrz"}, {"april", "apr"}, {"mai"}, {"juni", "jun"},
		{"juli", "jul"}, {"august", "aug"}, {"september", "sept", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"dezember", "dez"}},
		yes: []string{"ja", "wahr"}, no: []string{"nein", "falsch"}},
	"el": {months: monthTable{{"ιανουάριος", "ιανουαρίου", "ιαν"}, {"φεβρουάριος", "φεβρουαρίου", "φεβ"}, {"μάρτιος", "μαρτίου", "μαρ"}, {"απρίλιος", "απριλίου", "απρ"}, {"μάιος", "μαΐου", "μαΐ", "μαϊ", "μαι"}, {"ιούνιος", "ιουνίου", "ιουν"},
		{"ιούλιος", "ιουλίου", "ιουλ"}, {"αύγουστος", "αυγούστου", "αυγ"}, {"σεπτέμβριος", "σεπτεμβρίου", "σεπ"}, {"οκτώβριος", "οκτωβρίου", "οκτ"}, {"νοέμβριος", "νοεμβρίου", "νοε"}, {"δεκέμβριος", "δεκεμβρίου", "δεκ"}},
		yes: []string{"ναι"}, no: []string{"όχι", "οχι"}},
	"es": {months: monthTable{{"enero", "ene"}, {"febrero", "feb"}, {"marzo", "mar"}, {"abril", "abr"}, {"mayo", "may"}, {"junio", "jun"},
		{"julio", "jul"}, {"agosto", "ago"}, {"septiembre", "setiembre", "sept", "sep", "set"}, {"octubre", "oct"}, {"noviembre", "nov"}, {"diciembre", "dic"}},
		yes: []string{"sí", "si", "verdadero"}, no: []string{"no", "falso"}},
	"et": {months: monthTable{{"jaanuar", "jaan"}, {"veebruar", "veebr"}, {"märts"}, {"aprill", "apr"}, {"mai"}, {"juuni"},
		{"juuli"}, {"august", "aug"}, {"september", "sept"}, {"oktoober", "okt"}, {"november", "nov"}, {"detsember", "dets"}},
		yes: []string{"jah"}, no: []string{"ei"}},
	"eu": {months: monthTable{{"urtarrila", "urt"}, {"otsaila", "ots"}, {"martxoa", "mar"}, {"apirila", "api"}, {"maiatza", "mai"}, {"ekaina", "eka"},
		{"uztaila", "uzt"}, {"abuztua", "abu"}, {"iraila", "ira"}, {"urria", "urr"}, {"azaroa", "aza"}, {"abendua", "abe"}},
		yes: []string{"bai"}, no: []string{"ez"}},
	"fi": {months: monthTable{{"tammikuu", "tammikuuta", "tammi"}, {"helmikuu", "helmikuuta", "helmi"}, {"maaliskuu", "maaliskuuta", "maalis"}, {"huhtikuu", "huhtikuuta", "huhti"}, {"toukokuu", "toukokuuta", "touko"}, {"kesäkuu", "kesäkuuta", "kesä"},
		{"heinäkuu", "heinäkuuta", "heinä"}, {"elokuu", "elokuuta", "elo"}, {"syyskuu", "syyskuuta", "syys"}, {"lokakuu", "lokakuuta", "loka"}, {"marraskuu", "marraskuuta", "marras"}, {"joulukuu", "joulukuuta", "joulu"}},
		yes: []string{"kyllä", "kylla", "tosi"}, no: []string{"ei", "epätosi"}},
	"fr": {months: monthTable{{"janvier", "janv", "jan"}, {"février", "fevrier", "févr", "fevr", "fév", "fev"}, {"mars", "mar"}, {"avril", "avr"}, {"mai"}, {"juin"},
		{"juillet", "juil"}, {"août", "aout", "aoû"}, {"septembre", "sept", "sep"}, {"octobre", "oct"}, {"novembre", "nov"}, {"décembre", "decembre", "déc", "dec"}},
		yes: []string{"oui", "vrai"}, no: []string{"non", "faux"}},
	"gl": {months: monthTable{{"xaneiro", "xan"}, {"febreiro", "feb"}, {"marzo", "mar"}, {"abril", "abr"}, {"maio"}, {"xuño", "xuñ"},
		{"xullo", "xul"}, {"agosto", "ago"}, {"setembro", "set"}, {"outubro", "out"}, {"novembro", "nov"}, {"decembro", "dec"}},
		yes: []string{"si", "sí"}, no: []string{"non"}},
	"he": {months: monthTable{{"ינואר"}, {"פברואר"}, {"מרץ"}, {"אפריל"}, {"מאי"}, {"יוני"},
		{"יולי"}, {"אוגוסט"}, {"ספטמבר"}, {"אוקטובר"}, {"נובמבר"}, {"דצמבר"}},
		yes: []string{"כן"}, no: []string{"לא"}},
	"hu": {months: monthTable{{"január", "jan"}, {"február", "febr"}, {"március", "márc"}, {"április", "ápr"}, {"május", "máj"}, {"június", "jún"},
		{"július", "júl"}, {"augusztus", "aug"}, {"szeptember", "szept"}, {"október", "okt"}, {"november", "nov"}, {"december", "dec"}},
		yes: []string{"igen", "igaz"}, no: []string{"nem", "hamis"}},
	"hy": {months: monthTable{{"հունվար", "հունվարի", "հնվ"}, {"փետրվար", "փետրվարի", "փտվ"}, {"մարտ", "մարտի", "մրտ"}, {"ապրիլ", "ապրիլի", "ապր"}, {"մայիս", "մայիսի", "մյս"}, {"հունիս", "հունիսի", "հնս"},
		{"հուլիս", "հուլիսի", "հլս"}, {"օգոստոս", "օգոստոսի", "օգս"}, {"սեպտեմբեր", "սեպտեմբերի", "սեպ"}, {"հոկտեմբեր", "հոկտեմբերի", "հոկ"}, {"նոյեմբեր", "նոյեմբերի", "նոյ"}, {"դեկտեմբեր", "դեկտեմբերի", "դեկ"}},
		yes: []string{"այո"}, no: []string{"ոչ"}},
	"id": {months: monthTable{{"januari", "jan"}, {"februari", "feb"}, {"maret", "mar"}, {"april", "apr"}, {"mei"}, {"juni", "jun"},
		{"juli", "jul"}, {"agustus", "agu", "agt"}, {"september", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"desember", "des"}},
		yes: []string{"ya", "benar"}, no: []string{"tidak", "salah"}},
	"it": {months: monthTable{{"gennaio", "gen"}, {"febbraio", "feb"}, {"marzo", "mar"}, {"aprile", "apr"}, {"maggio", "mag"}, {"giugno", "giu"},
		{"luglio", "lug"}, {"agosto", "ago"}, {"settembre", "set"}, {"ottobre", "ott"}, {"novembre", "nov"}, {"dicembre", "dic"}},
		yes: []string{"sì", "si", "vero"}, no: []string{"no", "falso"}},
	"ja": {months: cjkMonths("月"),
		yes: []string{"はい", "真"}, no: []string{"いいえ", "偽"}},
	"ko": {months: monthTable{{"1월"}, {"2월"}, {"3월"}, {"4월"}, {"5월"}, {"6월"}, {"7월"}, {"8월"}, {"9월"}, {"10월"}, {"11월"}, {"12월"}},
		yes: []string{"예", "네"}, no: []string{"아니요", "아니오"}},
	"lt": {months: monthTable{{"sausis", "sausio", "saus"}, {"vasaris", "vasario", "vas"}, {"kovas", "kovo", "kov"}, {"balandis", "balandžio", "bal"}, {"gegužė", "gegužės", "geg"}, {"birželis", "birželio", "birž"},
		{"liepa", "liepos", "liep"}, {"rugpjūtis", "rugpjūčio", "rugp"}, {"rugsėjis", "rugsėjo", "rugs"}, {"spalis", "spalio", "spal"}, {"lapkritis", "lapkričio", "lapkr"}, {"gruodis", "gruodžio", "gruod"}},
		yes: []string{"taip"}, no: []string{"ne"}},
	"lv": {months: monthTable{{"janvāris", "janvārī", "janv"}, {"februāris", "februārī", "febr"}, {"marts", "martā"}, {"aprīlis", "aprīlī", "apr"}, {"maijs", "maijā"}, {"jūnijs", "jūnijā", "jūn"},
		{"jūlijs", "jūlijā", "jūl"}, {"augusts", "augustā", "aug"}, {"septembris", "septembrī", "sept"}, {"oktobris", "oktobrī", "okt"}, {"novembris", "novembrī", "nov"}, {"decembris", "decembrī", "dec"}},
		yes: []string{"jā"}, no: []string{"nē"}},
	"ms": {months: monthTable{{"januari", "jan"}, {"februari", "feb"}, {"mac"}, {"april", "apr"}, {"mei"}, {"jun"},
		{"julai", "jul"}, {"ogos", "ogo"}, {"september", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"disember", "dis"}},
		yes: []string{"ya", "benar"}, no: []string{"tidak", "salah"}},
	"nl": {months: monthTable{{"januari", "jan"}, {"februari", "feb"}, {"maart", "mrt", "mar"}, {"april", "apr"}, {"mei"}, {"juni", "jun"},
		{"juli", "jul"}, {"augustus", "aug"}, {"september", "sept", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"december", "dec"}},
		yes: []string{"ja", "waar"}, no: []string{"nee", "onwaar"}},
	"no": {months: monthTable{{"januar", "jan"}, {"februar", "feb"}, {"mars", "mar"}, {"april", "apr"}, {"mai"}, {"juni", "jun"},
		{"juli", "jul"}, {"august", "aug"}, {"september", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"desember", "des"}},
		yes: []string{"ja", "sann"}, no: []string{"nei", "usann"}},
	"pl": {months: monthTable{{"styczeń", "stycznia", "sty"}, {"luty", "lutego", "lut"}, {"marzec", "marca", "mar"}, {"kwiecień", "kwietnia", "kwi"}, {"maj", "maja"}, {"czerwiec", "czerwca", "cze"},
		{"lipiec", "lipca", "lip"}, {"sierpień", "sierpnia", "sie"}, {"wrzesień", "września", "wrz"}, {"październik", "października", "paź", "paz"}, {"listopad", "listopada", "lis"}, {"grudzień", "grudnia", "gru"}},
		yes: []string{"tak", "prawda"}, no: []string{"nie", "fałsz"}},
	"pt": {months: monthTable{{"janeiro", "jan"}, {"fevereiro", "fev"}, {"março", "marco", "mar"}, {"abril", "abr"}, {"maio", "mai"}, {"junho", "jun"},
		{"julho", "jul"}, {"agosto", "ago"}, {"setembro", "set"}, {"outubro", "out"}, {"novembro", "nov"}, {"dezembro", "dez"}},
		yes: []string{"sim", "verdadeiro"}, no: []string{"não", "nao", "falso"}},
	"ro": {months: monthTable{{"ianuarie", "ian"}, {"februarie", "feb"}, {"martie", "mar"}, {"aprilie", "apr"}, {"mai"}, {"iunie", "iun"},
		{"iulie", "iul"}, {"august", "aug"}, {"septembrie", "sept", "sep"}, {"octombrie", "oct"}, {"noiembrie", "noi"}, {"decembrie", "dec"}},
		yes: []string{"da", "adevărat"}, no: []string{"nu", "fals"}},
	"ru": {months: monthTable{{"январь", "января", "янв"}, {"февраль", "февраля", "февр", "фев"}, {"март", "марта", "мар"}, {"апрель", "апреля", "апр"}, {"май", "мая"}, {"июнь", "июня", "июн"},
		{"июль", "июля", "июл"}, {"август", "августа", "авг"}, {"сентябрь", "сентября", "сент", "сен"}, {"октябрь", "октября", "окт"}, {"ноябрь", "ноября", "нояб", "ноя"}, {"декабрь", "декабря", "дек"}},
		yes: []string{"да", "истина"}, no: []string{"нет", "ложь"}},
	"sk": {months: monthTable{{"január", "januára", "jan"}, {"február", "februára", "feb"}, {"marec", "marca", "mar"}, {"apríl", "apríla", "apr"}, {"máj", "mája"}, {"jún", "júna"},
		{"júl", "júla"}, {"august", "augusta", "aug"}, {"september", "septembra", "sep"}, {"október", "októbra", "okt"}, {"november", "novembra", "nov"}, {"december", "decembra", "dec"}},
		yes: []string{"áno", "ano"}, no: []string{"nie"}},
	"sl": {months: monthTable{{"januar", "januarja", "jan"}, {"februar", "februarja", "feb"}, {"marec", "marca", "mar"}, {"april", "aprila", "apr"}, {"maj", "maja"}, {"junij", "junija", "jun"},
		{"julij", "julija", "jul"}, {"avgust", "avgusta", "avg"}, {"september", "septembra", "sep"}, {"oktober", "oktobra", "okt"}, {"november", "novembra", "nov"}, {"december", "decembra", "dec"}},
		yes: []string{"da"}, no: []string{"ne"}},
	"sq": {months: monthTable{{"janar", "jan"}, {"shkurt", "shk"}, {"mars", "mar"}, {"prill", "pri"}, {"maj"}, {"qershor", "qer"},
		{"korrik", "kor"}, {"gusht", "gush"}, {"shtator", "sht"}, {"tetor", "tet"}, {"nëntor", "nën"}, {"dhjetor", "dhj"}},
		yes: []string{"po"}, no: []string{"jo"}},
	"sr": {months: monthTable{{"јануар", "januar", "јан"}, {"фебруар", "februar", "феб"}, {"март", "mart"}, {"април", "april", "апр"}, {"мај", "maj"}, {"јун", "jun"},
		{"јул", "jul"}, {"август", "avgust", "авг", "avg"}, {"септембар", "septembar", "сеп"}, {"октобар", "oktobar", "окт", "okt"}, {"новембар", "novembar", "нов"}, {"децембар", "decembar", "дец", "dec"}},
		yes: []string{"да", "da"}, no: []string{"не", "ne"}},
	"sv": {months: monthTable{{"januari", "jan"}, {"februari", "feb"}, {"mars", "mar"}, {"april", "apr"}, {"maj"}, {"juni", "jun"},
		{"juli", "jul"}, {"augusti", "aug"}, {"september", "sept", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"december", "dec"}},
		yes: []string{"ja", "sant"}, no: []string{"nej", "falskt"}},
	"tr": {months: monthTable{{"ocak", "oca"}, {"şubat", "subat", "şub"}, {"mart", "mar"}, {"nisan", "nis"}, {"mayıs", "mayis", "may"}, {"haziran", "haz"},
		{"temmuz", "tem"}, {"ağustos", "agustos", "ağu"}, {"eylül", "eylul", "eyl"}, {"ekim", "eki"}, {"kasım", "kasim", "kas"}, {"aralık", "aralik", "ara"}},
		yes: []string{"evet", "doğru"}, no: []string{"hayır", "hayir", "yanlış"}},
	"uk": {months: monthTable{{"січень", "січня", "січ"}, {"лютий", "лютого", "лют"}, {"березень", "березня", "бер"}, {"квітень", "квітня", "квіт", "кві"}, {"травень", "травня", "трав", "тра"}, {"червень", "червня", "черв", "чер"},
		{"липень", "липня", "лип"}, {"серпень", "серпня", "серп", "сер"}, {"вересень", "вересня", "вер"}, {"жовтень", "жовтня", "жовт", "жов"}, {"листопад", "листопада", "лист", "лис"}, {"грудень", "грудня", "груд", "гру"}},
		yes: []string{"так", "істина"}, no: []string{"ні", "хиба"}},
	"vi": {months: vietnameseMonths(),
		yes: []string{"có", "đúng"}, no: []string{"không", "sai"}},
	"zh": {months: cjkMonths("月"),
		yes: []string{"是", "真"}, no: []string{"否", "假"}},
}

// cjkMonths are the months written with a number and the month sign: 3月 and 三月.
func cjkMonths(sign string) monthTable {
	numerals := [...]string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"}
	var t monthTable
	for m := range t {
		t[m] = []string{strconv.Itoa(m+1) + sign, numerals[m] + sign}
	}
	return t
}

// vietnameseMonths are "tháng 3" (with its number, or its name: "tháng ba"), and "thg 3".
func vietnameseMonths() monthTable {
	names := [...]string{"một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"}
	var t monthTable
	for m := range t {
		n := strconv.Itoa(m + 1)
		t[m] = []string{"tháng " + n, "tháng " + names[m], "thg " + n}
	}
	t[0] = append(t[0], "tháng giêng")
	return t
}

// monthTableFor returns the month names of a locale such as "de" or "de-AT" (the language
// decides), nil when there are none.
func monthTableFor(locale string) *monthTable {
	lang, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(locale, "_", "-")), "-")
	if lang == "en" {
		return &english
	}
	if l, ok := languages[lang]; ok {
		return &l.months
	}
	return nil
}

func localeNames() []string {
	names := []string{"en"}
	for k := range languages {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// matchMonth reads a month's name at the start of s, in English or in the locale's
// language, ignoring case, and a dot after it. The longest name wins ("juillet" over "juil").
func matchMonth(s string, locale *monthTable) (month int, rest string, ok bool) {
	best := 0
	for _, t := range []*monthTable{&english, locale} {
		if t == nil {
			continue
		}
		for m, names := range t {
			for _, name := range names {
				if n := prefixFold(s, name); n > best {
					best, month = n, m+1
				}
			}
		}
	}
	if best == 0 {
		return 0, s, false
	}
	rest = s[best:]
	// A name must end where the letters end: "Mai" is not the start of "Main".
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && isLetter(r) {
		return 0, s, false
	}
	return month, rest, true
}

// prefixFold returns the length in s of name found at its start ignoring case, 0 when s
// does not start with it.
func prefixFold(s, name string) int {
	i := 0
	for _, want := range name {
		if i >= len(s) {
			return 0
		}
		got, size := utf8.DecodeRuneInString(s[i:])
		if !strings.EqualFold(string(got), string(want)) {
			return 0
		}
		i += size
	}
	return i
}

func isLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != 0xa0 && r != 0x202f
}

// MonthLocale returns the locale (such as "de") whose month names, and not English ones, a
// date such as "15. März 2024" uses, or "" when it names no month or English ones. A name
// several languages share (apr, nov) decides nothing. init-mapping proposes locale: with it.
func MonthLocale(date string) string {
	found := ""
	for _, word := range strings.FieldsFunc(strings.ToLower(date), func(r rune) bool { return !isLetter(r) }) {
		if inTable(&english, word) {
			continue
		}
		for _, name := range localeNames() {
			if t := monthTableFor(name); t != nil && name != "en" && inTable(t, word) {
				if found != "" && found != name {
					return "" // two languages: undecided
				}
				found = name
			}
		}
	}
	return found
}

func inTable(t *monthTable, word string) bool {
	for _, names := range t {
		if slices.Contains(names, word) {
			return true
		}
	}
	return false
}
