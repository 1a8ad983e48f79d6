package scaffold

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	unorm "golang.org/x/text/unicode/norm"
)

// namesOf is the names that stand for one thing: a field, or a currency's ISO code. The
// tables are slices, not maps: a map literal is built by the package's init, which every
// command runs, a slice literal laid out by the linker.
type namesOf struct {
	of    string
	names []string
}

// The column names of deal exports, by the field they hold: Microsoft Dynamics 365,
// Zoho CRM, Pipedrive, HubSpot, Bitrix24, amoCRM (Kommo) and ONLYOFFICE itself, in
// English, German, French, Spanish and Russian, as their export dialogs and list views
// label the columns. "tags" and "created" are the mapping's top-level keys; "key" is the
// row's identity.
//
// Names are compared folded (fold): lower case, accents dropped, letters and digits only,
// so "Date de clôture" matches "date de cloture" and "Deal - Title" "deal title". An
// export that prefixes every column with its entity ("Deal - Title", "Сделка - Название")
// is matched on the part after the dash too.
var exportNames = []namesOf{
	{"key", []string{
		"ID", "Deal ID", "Opportunity ID", "Record ID", "Record Id", "Deal Id", "Lead ID", "Deal Number", "Deal No", "Deal #",
		"Deal-ID", "Geschäfts-ID", "Datensatz-ID", "ID de l'affaire", "ID de l'enregistrement", "ID del registro", "ID del trato",
		"ID de trato", "ID сделки", "ID записи", "Номер сделки", "Код сделки",
	}},
	{"title", []string{
		"Title", "Name", "Deal Name", "Deal", "Deal Title", "Opportunity Name", "Opportunity", "Opportunity Title", "Subject",
		"Topic", "Lead title", "Lead name",
		"Titel", "Bezeichnung", "Thema", "Name des Deals", "Dealname", "Geschäftsname", "Verkaufschance",
		"Titre", "Nom", "Sujet", "Nom de l'affaire", "Nom de la transaction", "Nom de l'opportunité", "Opportunité", "Affaire",
		"Título", "Tema", "Nombre", "Nombre del trato", "Nombre de trato", "Nombre del negocio", "Nombre de la oportunidad", "Oportunidad", "Nombre del lead",
		"Название", "Название сделки", "Тема", "Сделка", "Наименование", "Наименование сделки", "Возможная сделка",
	}},
	{"description", []string{
		"Description", "Notes", "Note", "Details", "Comments", "Comment", "Deal Description",
		"Beschreibung", "Notizen", "Notiz", "Kommentar", "Kommentare",
		"Notes de l'affaire", "Commentaire", "Commentaires", "Détails",
		"Descripción", "Notas", "Nota", "Comentario", "Comentarios", "Detalles",
		"Описание", "Комментарий", "Комментарии", "Примечание", "Примечания",
	}},
	{"bidValue", []string{
		"Amount", "Value", "Deal Value", "Deal Amount", "Bid Value", "Budget", "Opportunity Amount", "Amount (converted)",
		"Est. Revenue", "Estimated Revenue", "Income", "Sale", "Opportunity amount", "Price",
		"Betrag", "Wert", "Geschätzter Umsatz", "Umsatz", "Dealwert", "Einnahmen", "Preis",
		"Montant", "Valeur", "Chiffre d'affaires estimé", "Revenu estimé", "Budget de l'affaire", "Prix",
		"Importe", "Valor", "Cantidad", "Ingresos estimados", "Presupuesto", "Venta", "Precio",
		"Сумма", "Бюджет", "Стоимость", "Предполагаемая выручка", "Сумма сделки", "Доход", "Цена",
	}},
	{"bidCurrencyAbbr", []string{
		"Currency", "Deal Currency", "Opportunity Currency", "Currency Code", "Bid Currency", "Currency ISO Code", "Value Currency",
		"Deal currency code",
		"Währung", "Devise", "Moneda", "Divisa", "Валюта", "Валюта сделки",
	}},
	{"bidType", []string{
		"Bid Type", "Billing", "Payment Type", "Zahlungsart", "Abrechnung", "Type de facturation", "Tipo de pago", "Тип оплаты", "Тип ставки",
	}},
	{"perPeriodValue", []string{
		"Per Period Value", "Periods", "Number of Periods", "Anzahl der Perioden", "Nombre de périodes", "Número de periodos", "Количество периодов",
	}},
	{"expectedCloseDate", []string{
		"Close Date", "Closing Date", "Expected Close Date", "Expected Close", "Estimated Close Date", "Expected Close Date (Date)", "Due Date",
		"Est. Close Date", "Expected close date", "Estimated close date", "Closing date",
		"Abschlussdatum", "Erwartetes Abschlussdatum", "Geschätztes Abschlussdatum", "Voraussichtliches Abschlussdatum", "Schlusstermin",
		"Date de clôture", "Date de clôture prévue", "Date de clôture estimée", "Date de fermeture", "Date de clôture attendue",
		"Fecha de cierre", "Fecha de cierre prevista", "Fecha de cierre estimada", "Fecha prevista de cierre",
		"Дата закрытия", "Предполагаемая дата закрытия", "Ожидаемая дата закрытия", "Планируемая дата закрытия",
	}},
	{"actualCloseDate", []string{
		"Actual Close Date", "Won Time", "Date Closed", "Closed Date", "Actual Close", "Closed On", "Won time",
		"Tatsächliches Abschlussdatum", "Gewonnen am", "Date de clôture réelle", "Gagné le", "Fecha de cierre real", "Ganado el",
		"Фактическая дата закрытия", "Дата выигрыша",
	}},
	{"stageid", []string{
		"Stage", "Deal Stage", "Opportunity Stage", "Sales Stage", "Pipeline Stage", "Phase", "Milestone", "Pipeline Phase", "Lead status",
		"Stufe", "Phase des Deals", "Deal-Phase", "Verkaufsphase", "Vertriebsphase",
		"Étape", "Étape de l'affaire", "Phase de la transaction", "Étape de vente", "Étape du processus de vente",
		"Etapa", "Fase", "Etapa del negocio", "Etapa del trato", "Fase de ventas", "Etapa del lead",
		"Этап", "Этап сделки", "Стадия", "Стадия сделки", "Стадия продаж", "Статус сделки",
	}},
	{"successProbability", []string{
		"Probability", "Probability (%)", "Probability %", "Win Probability", "Deal Probability", "Success Probability", "Deal probability (%)",
		"Wahrscheinlichkeit", "Wahrscheinlichkeit (%)", "Erfolgswahrscheinlichkeit",
		"Probabilité", "Probabilité (%)", "Probabilité de gain", "Probabilidad", "Probabilidad (%)", "Probabilidad de éxito",
		"Вероятность", "Вероятность (%)", "Вероятность успеха",
	}},
	{"responsibleid", []string{
		"Owner", "Opportunity Owner", "Deal Owner", "Deal owner", "Responsible", "Assigned To", "Sales Rep", "Owner Name", "Salesperson", "User",
		"Owner Email", "Owner E-mail", "Responsible person", "Responsible user", "Manager", "Account Manager",
		"Besitzer", "Inhaber", "Verantwortlich", "Verantwortlicher", "Verantwortliche Person", "Deal-Inhaber", "Zuständig", "Zugewiesen an",
		"Propriétaire", "Responsable", "Propriétaire de l'affaire", "Propriétaire de la transaction", "Personne responsable", "Assigné à",
		"Propietario", "Propietario del trato", "Propietario del negocio", "Persona responsable", "Usuario responsable", "Asignado a",
		"Ответственный", "Ответственный менеджер", "Владелец", "Владелец сделки", "Менеджер",
	}},
	{"contactid", []string{
		"Account Name", "Account", "Associated Company", "Organization", "Organisation", "Organization Name", "Company", "Client", "Customer",
		"Contact", "Contact Name", "Person", "Associated Contact", "Contact Person", "Potential Customer", "Main contact",
		"Firma", "Kontakt", "Kontaktperson", "Unternehmen", "Kunde", "Potenzieller Kunde", "Organisation des Deals",
		"Société", "Entreprise", "Personne à contacter", "Client potentiel", "Compte",
		"Empresa", "Compañía", "Contacto", "Persona de contacto", "Cliente", "Cliente potencial", "Cuenta", "Organización", "Contacto principal",
		"Компания", "Контакт", "Контактное лицо", "Клиент", "Организация", "Потенциальный клиент", "Основной контакт",
	}},
	{"isPrivate", []string{"Private", "Is Private", "Privat", "Privé", "Privado", "Приватная", "Личная"}},
	{"tags", []string{
		"Tags", "Tag", "Labels", "Label", "Type", "Deal Type", "Category", "Categories",
		"Schlagwörter", "Schlagwort", "Kategorie", "Typ", "Étiquettes", "Étiquette", "Libellé", "Libellés", "Catégorie",
		"Etiquetas", "Etiqueta", "Categoría", "Tipo", "Теги", "Тег", "Метка", "Метки", "Категория", "Тип", "Тип сделки",
	}},
	{"created", []string{
		"Created", "Create Date", "Created Time", "Created On", "Created At", "Date Created", "Creation Date", "Deal created", "Add time",
		"Erstellt am", "Erstellt", "Erstellungsdatum", "Angelegt am", "Deal erstellt",
		"Créé le", "Date de création", "Créé", "Affaire créée",
		"Creado el", "Fecha de creación", "Creado", "Trato creado",
		"Дата создания", "Создано", "Создана", "Сделка создана",
	}},
}

// keywords tell a field from a word in a column name that no export table lists, such
// as "Owner E-Mail (Sales)". Checked in this order: the first that matches wins.
var keywords = []struct {
	field string
	words []string
}{
	{"actualCloseDate", []string{"actual close", "won time", "tatsachlich", "reelle", "cierre real", "фактическ"}},
	{"expectedCloseDate", []string{"close date", "closing", "abschlussdatum", "cloture", "cierre", "закрыт"}},
	{"created", []string{"created", "erstellt", "creation", "creado", "создан"}},
	{"responsibleid", []string{"owner", "responsible", "assigned", "salesperson", "sales rep", "inhaber", "besitzer", "verantwortlich", "proprietaire", "propietario", "responsable", "ответствен", "владел", "менеджер"}},
	{"successProbability", []string{"probab", "wahrscheinlich", "вероятн"}},
	{"bidCurrencyAbbr", []string{"currency", "wahrung", "devise", "moneda", "divisa", "валют"}},
	{"bidValue", []string{"amount", "revenue", "budget", "betrag", "umsatz", "montant", "importe", "сумма", "бюджет", "стоимост", "выручк"}},
	{"stageid", []string{"stage", "phase", "etape", "etapa", "этап", "стади"}},
	{"tags", []string{"tag", "label", "schlagw", "etiquet", "тег", "метк"}},
	{"description", []string{"description", "note", "comment", "beschreibung", "notiz", "kommentar", "descripcion", "comentario", "описан", "коммент", "примечан"}},
	{"contactid", []string{"company", "organi", "account", "customer", "client", "contact", "firma", "kunde", "unternehmen", "societe", "entreprise", "empresa", "компани", "клиент", "контакт"}},
	{"title", []string{"title", "name", "titel", "titre", "nombre", "titulo", "назван", "наименован"}},
}

// known maps a folded column name to the field it holds. Built on first use: folding the
// names allocates 5 MB, which every command paid at start-up when this was an init.
var known = &lazy[map[string]string]{build: func() map[string]string {
	m := map[string]string{}
	for _, e := range exportNames {
		for _, n := range e.names {
			m[norm(n)] = e.of
		}
	}
	return m
}}

// norm folds a column name for comparison: lower case, accents dropped, letters and
// digits only, and a number sign read as the "no" it abbreviates ("Deal #" is "Deal No",
// a key, not the title "Deal").
func norm(s string) string {
	var b strings.Builder
	for _, r := range fold(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '#' || r == '№':
			b.WriteString("no")
		}
	}
	return b.String()
}

// fold lower-cases s and drops its accents (é -> e, ё -> е), keeping spaces.
func fold(s string) string {
	t := transform.Chain(unorm.NFD, runes.Remove(runes.In(unicode.Mn)), unorm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// doNotModify reports a column that Dynamics 365 adds to its Excel exports for its own
// re-import ("(Do Not Modify) Opportunity" holds the record's GUID): never a field, but
// the GUID one is a key.
func doNotModify(name string) bool {
	f := fold(name)
	for _, p := range []string{"(do not modify)", "(nicht andern)", "(ne pas modifier)", "(no modificar)", "(не изменять)"} {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// fieldOf is the field a column name holds by the export tables, "" when none: the
// whole name, or the part after an entity prefix ("Deal - Title").
func fieldOf(name string) string {
	if doNotModify(name) {
		return ""
	}
	if f, ok := known.get()[norm(name)]; ok {
		return f
	}
	if _, rest, ok := strings.Cut(name, " - "); ok {
		if f, ok := known.get()[norm(rest)]; ok {
			return f
		}
	}
	return ""
}

// fieldByKeyword is the field a column name suggests by one of its words, "" when none.
func fieldByKeyword(name string) string {
	if doNotModify(name) {
		return ""
	}
	f := " " + strings.Join(strings.FieldsFunc(fold(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ") + " "
	for _, k := range keywords {
		for _, w := range k.words {
			if strings.Contains(f, " "+w) {
				return k.field
			}
		}
	}
	return ""
}

// currencies are the names and symbols that exports write for a currency, folded, by
// ISO code: English, German, French, Spanish and Russian names, and the usual
// abbreviations and symbols. "$" alone is taken as USD.
var currencies = []namesOf{
	{"USD", []string{"$", "US$", "US Dollar", "US Dollars", "U.S. Dollar", "Dollar", "Dollars", "United States Dollar", "US-Dollar", "Dollar américain", "Dollar US", "Dólar", "Dólar estadounidense", "Dólares", "Доллар", "Доллар США", "долл.", "долл", "дол."}},
	{"EUR", []string{"€", "Euro", "Euros", "Евро"}},
	{"GBP", []string{"£", "Pound", "Pound Sterling", "British Pound", "Pfund", "Britisches Pfund", "Livre sterling", "Libra esterlina", "Фунт", "Фунт стерлингов"}},
	{"RUB", []string{"₽", "руб.", "руб", "р.", "Рубль", "Рублей", "Российский рубль", "Russian Ruble", "Russian Rouble", "Ruble", "Rouble", "Rubel", "Russischer Rubel", "Rouble russe", "Rublo", "Rublo ruso", "RUR"}},
	{"CHF", []string{"Fr.", "SFr.", "Swiss Franc", "Franken", "Schweizer Franken", "Franc suisse", "Franco suizo", "Швейцарский франк"}},
	{"JPY", []string{"¥", "円", "Yen", "Japanese Yen", "Japanischer Yen", "Yen japonais", "Yen japonés", "Иена", "Японская иена"}},
	{"CNY", []string{"元", "Yuan", "Renminbi", "Chinese Yuan", "Yuan Renminbi", "Юань", "Китайский юань"}},
	{"PLN", []string{"zł", "Zloty", "Złoty", "Polish Zloty", "Polnischer Zloty", "Zloty polonais", "Esloti", "Злотый"}},
	{"UAH", []string{"₴", "грн", "грн.", "Hryvnia", "Гривна", "Гривня"}},
	{"KZT", []string{"₸", "Tenge", "Тенге"}},
	{"BYN", []string{"Br", "Belarusian Ruble", "Белорусский рубль", "бел. руб."}},
	{"INR", []string{"₹", "Rupee", "Indian Rupee", "Рупия"}},
	{"TRY", []string{"₺", "Lira", "Turkish Lira", "Türkische Lira", "Турецкая лира"}},
	{"BRL", []string{"R$", "Real", "Brazilian Real", "Real brasileño"}},
	{"CAD", []string{"C$", "CA$", "Canadian Dollar", "Kanadischer Dollar", "Dollar canadien", "Dólar canadiense", "Канадский доллар"}},
	{"AUD", []string{"A$", "AU$", "Australian Dollar", "Australischer Dollar", "Dollar australien", "Dólar australiano", "Австралийский доллар"}},
	{"MXN", []string{"Mex$", "Mexican Peso", "Peso mexicano", "Peso"}},
	{"SEK", []string{"Swedish Krona", "Schwedische Krone", "Couronne suédoise", "Corona sueca"}},
	{"NOK", []string{"Norwegian Krone", "Norwegische Krone"}},
	{"DKK", []string{"Danish Krone", "Dänische Krone"}},
	{"CZK", []string{"Kč", "Czech Koruna", "Tschechische Krone"}},
}

// currencyByName maps a folded currency name or symbol to its code, built on first use
// (as known is).
var currencyByName = &lazy[map[string]string]{build: func() map[string]string {
	m := map[string]string{}
	for _, e := range currencies {
		m[strings.ToLower(e.of)] = e.of
		for _, n := range e.names {
			m[fold(strings.TrimSpace(n))] = e.of
		}
	}
	return m
}}

// currencyCodeOf is the ISO code a currency cell names, "" when it names none this knows.
func currencyCodeOf(v string) string {
	return currencyByName.get()[fold(strings.TrimSpace(v))]
}
