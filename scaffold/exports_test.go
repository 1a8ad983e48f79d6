package scaffold

import (
	"strings"
	"testing"

	"github.com/oppimport/oppimport/mapping"
)

// propose writes the proposal for a header and rows, and checks that it loads and binds
// to that header as validate would.
func propose(t *testing.T, kind string, header []string, rows [][]string, portal *Portal) string {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, Input{Name: "export." + kind, Kind: kind, Delimiter: ',', Header: header, Rows: rows}, portal); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	m, err := mapping.Parse([]byte(out), "proposal.yaml")
	if err != nil {
		t.Fatalf("the proposal does not load: %v\n%s", err, out)
	}
	if _, err := m.Bind(header, mapping.BindOptions{SerialDates: kind == "xlsx"}); err != nil {
		t.Fatalf("the proposal does not bind: %v\n%s", err, out)
	}
	return out
}

// Exports of the CRMs users leave, in their languages: every column a person would map
// is mapped to the field it holds.
func TestExports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string
		rows   [][]string
		want   []string // lines (or parts of lines) of the proposal
	}{
		{"Dynamics 365, English",
			[]string{"(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic", "Potential Customer", "Est. Close Date", "Est. Revenue", "Probability", "Owner", "Currency", "Sales Stage", "Created On"},
			[][]string{
				{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "kZ8x0A==", "2024-03-01 10:00", "Kitchen refit", "Müller GmbH", "3/15/2024", "15,000.00", "40", "Anna Berg", "US Dollar", "Propose", "1/5/2024 9:12 AM"},
				{"3f2504e0-4f89-11d3-9a0c-0305e82c3302", "Lk8x0B==", "2024-03-02 10:00", "Roof", "Acme", "4/30/2024", "2,500.00", "20", "Anna Berg", "Euro", "Qualify", "1/6/2024 9:12 AM"},
			},
			[]string{`key: ["(Do Not Modify) Opportunity"]`, `key_field: "Legacy ID"`, `title: { column: "Topic" }`, `contactid: { column: "Potential Customer", lookup: contact }`,
				`expectedCloseDate: { column: "Est. Close Date", format: "M/D/YYYY" }`, `bidValue: { column: "Est. Revenue" }`,
				`successProbability: { column: "Probability" }`, `responsibleid: { column: "Owner", lookup: user }`,
				`"US Dollar": USD`, `"Euro": EUR`, `stageid: { column: "Sales Stage", lookup: stage }`, `column: "Created On"`}},
		{"Dynamics 365, German",
			[]string{"Thema", "Potenzieller Kunde", "Geschätztes Abschlussdatum", "Geschätzter Umsatz", "Wahrscheinlichkeit", "Besitzer", "Währung", "Verkaufsphase", "Erstellt am"},
			[][]string{{"Küche", "Müller GmbH", "15.03.2024", "15.000,00 €", "40", "Anna Berg", "Euro", "Angebot", "05.01.2024 09:12"}},
			[]string{`title: { column: "Thema" }`, `contactid: { column: "Potenzieller Kunde", lookup: contact }`, `expectedCloseDate: { column: "Geschätztes Abschlussdatum", format: "D.M.YYYY" }`,
				`bidValue: { column: "Geschätzter Umsatz", decimal: "," }`, `successProbability: { column: "Wahrscheinlichkeit" }`,
				`responsibleid: { column: "Besitzer", lookup: user }`, `"Euro": EUR`, `stageid: { column: "Verkaufsphase", lookup: stage }`, `column: "Erstellt am", format: "D.M.YYYY H:mm"`}},
		{"Zoho CRM, English",
			[]string{"Record Id", "Deal Name", "Account Name", "Contact Name", "Amount", "Closing Date", "Stage", "Probability (%)", "Deal Owner", "Type", "Created Time", "Description"},
			[][]string{
				{"zcrm_4150868000000224005", "Kitchen", "Acme", "Jane Roe", "1500", "2024-03-15", "Qualification", "10", "anna@example.com", "New Business", "2024-01-05 09:12:00", "first deal"},
				{"zcrm_4150868000000224006", "Roof", "Beta", "John Doe", "2500", "2024-04-30", "Negotiation/Review", "90", "bob@example.com", "Existing Business", "2024-01-06 10:00:00", ""},
			},
			[]string{`key: ["Record Id"]`, `title: { column: "Deal Name" }`, `contactid: { column: "Account Name", lookup: contact }`, `members: { column: "Contact Name"`,
				`bidValue: { column: "Amount" }`, `expectedCloseDate: { column: "Closing Date" }`, `stageid: { column: "Stage", lookup: stage }`,
				`successProbability: { column: "Probability (%)" }`, `responsibleid: { column: "Deal Owner", lookup: user }`, `tags: { column: "Type"`,
				`created: { column: "Created Time" }`, `description: { column: "Description" }`}},
		{"Zoho CRM, French",
			[]string{"ID de l'enregistrement", "Nom de l'affaire", "Montant", "Date de clôture", "Étape", "Probabilité (%)", "Propriétaire de l'affaire", "Devise"},
			[][]string{{"1001", "Cuisine", "1 500,50", "15/03/2024", "Qualification", "10", "anna@example.com", "€"}, {"1002", "Toit", "980,00", "30/04/2024", "Négociation", "90", "anna@example.com", "EUR"}},
			[]string{`key: ["ID de l'enregistrement"]`, `title: { column: "Nom de l'affaire" }`, `bidValue: { column: "Montant", decimal: "," }`,
				`expectedCloseDate: { column: "Date de clôture", format: "D/M/YYYY" }`, `stageid: { column: "Étape", lookup: stage }`,
				`successProbability: { column: "Probabilité (%)" }`, `responsibleid: { column: "Propriétaire de l'affaire", lookup: user }`, `"€": EUR`, `"EUR": EUR`}},
		{"Pipedrive, English with entity prefixes",
			[]string{"Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Owner", "Deal - Stage", "Deal - Expected close date", "Deal - Organization", "Deal - Contact person", "Deal - Label", "Deal - Deal created"},
			[][]string{{"17", "Kitchen", "1500", "EUR", "Anna Berg", "Qualified", "2024-03-15", "Acme", "Jane Roe", "hot, vip", "2024-01-05 09:12:00"}, {"18", "Roof", "900", "USD", "Bob", "Contact made", "", "Beta", "", "", "2024-01-06 09:12:00"}},
			[]string{`key: ["Deal - ID"]`, `title: { column: "Deal - Title" }`, `bidValue: { column: "Deal - Value" }`, `bidCurrencyAbbr: { column: "Deal - Currency" }`,
				`responsibleid: { column: "Deal - Owner", lookup: user }`, `stageid: { column: "Deal - Stage", lookup: stage }`, `expectedCloseDate: { column: "Deal - Expected close date" }`,
				`contactid: { column: "Deal - Organization", lookup: contact }`, `members: { column: "Deal - Contact person"`, `tags: { column: "Deal - Label", split: "," }`, `created: { column: "Deal - Deal created" }`}},
		{"Pipedrive, Spanish",
			[]string{"Trato - ID", "Trato - Título", "Trato - Valor", "Trato - Moneda", "Trato - Propietario", "Trato - Etapa", "Trato - Fecha de cierre prevista", "Trato - Organización", "Trato - Etiqueta", "Trato - Trato creado"},
			[][]string{{"5", "Cocina", "1.500,00", "Euro", "ana@example.com", "Calificado", "15/03/2024", "Acme", "vip", "05/01/2024 09:12"}, {"6", "Tejado", "900,00", "Dólar", "ana@example.com", "Contactado", "30/04/2024", "Beta", "", "06/01/2024 09:12"}},
			[]string{`key: ["Trato - ID"]`, `title: { column: "Trato - Título" }`, `bidValue: { column: "Trato - Valor", decimal: "," }`, `"Euro": EUR`, `"Dólar": USD`,
				`responsibleid: { column: "Trato - Propietario", lookup: user }`, `stageid: { column: "Trato - Etapa", lookup: stage }`,
				`expectedCloseDate: { column: "Trato - Fecha de cierre prevista", format: "D/M/YYYY" }`, `contactid: { column: "Trato - Organización", lookup: contact }`,
				`tags: { column: "Trato - Etiqueta"`, `column: "Trato - Trato creado", format: "D/M/YYYY H:mm"`}},
		{"HubSpot, English",
			[]string{"Record ID", "Deal Name", "Deal Stage", "Close Date", "Deal owner", "Amount", "Create Date", "Pipeline", "Associated Company"},
			[][]string{{"9876543210", "Kitchen", "Appointment scheduled", "2024-03-15", "Anna Berg", "1500", "2024-01-05", "Sales Pipeline", "Acme"}, {"9876543211", "Roof", "Closed won", "2024-04-30", "Bob Stone", "900", "2024-01-06", "Sales Pipeline", "Beta"}},
			[]string{`key: ["Record ID"]`, `title: { column: "Deal Name" }`, `stageid: { column: "Deal Stage", lookup: stage }`, `expectedCloseDate: { column: "Close Date" }`,
				`responsibleid: { column: "Deal owner", lookup: user }`, `bidValue: { column: "Amount" }`, `created: { column: "Create Date" }`, `contactid: { column: "Associated Company", lookup: contact }`, `#   "Pipeline"`}},
		{"HubSpot, German",
			[]string{"Datensatz-ID", "Name des Deals", "Deal-Phase", "Abschlussdatum", "Deal-Inhaber", "Betrag", "Erstellungsdatum"},
			[][]string{{"101", "Küche", "Termin vereinbart", "15.03.2024", "Anna Berg", "1.500,00", "05.01.2024"}, {"102", "Dach", "Gewonnen", "30.04.2024", "Anna Berg", "900,00", "06.01.2024"}},
			[]string{`key: ["Datensatz-ID"]`, `title: { column: "Name des Deals" }`, `stageid: { column: "Deal-Phase", lookup: stage }`, `expectedCloseDate: { column: "Abschlussdatum", format: "D.M.YYYY" }`,
				`responsibleid: { column: "Deal-Inhaber", lookup: user }`, `bidValue: { column: "Betrag", decimal: "," }`, `created: { column: "Erstellungsdatum", format: "D.M.YYYY" }`}},
		{"Bitrix24, Russian",
			[]string{"ID", "Название сделки", "Стадия сделки", "Сумма", "Валюта", "Ответственный", "Дата создания", "Предполагаемая дата закрытия", "Компания", "Комментарий"},
			[][]string{{"12", "Кухня", "Новая", "150 000,00", "руб.", "Анна Иванова", "05.01.2024 09:12:00", "15.03.2024", "ООО Ромашка", ""}, {"13", "Крыша", "Счёт", "90 000,00", "Российский рубль", "Анна Иванова", "06.01.2024 10:00:00", "30.04.2024", "ИП Петров", "срочно"}},
			[]string{`key: ["ID"]`, `title: { column: "Название сделки" }`, `stageid: { column: "Стадия сделки", lookup: stage }`, `bidValue: { column: "Сумма", decimal: "," }`,
				`"руб.": RUB`, `"Российский рубль": RUB`, `responsibleid: { column: "Ответственный", lookup: user }`, `column: "Дата создания", format: "D.M.YYYY H:mm:ss"`,
				`expectedCloseDate: { column: "Предполагаемая дата закрытия", format: "D.M.YYYY" }`, `contactid: { column: "Компания", lookup: contact }`, `description: { column: "Комментарий" }`}},
		{"amoCRM, Russian",
			[]string{"ID", "Название сделки", "Бюджет", "Ответственный", "Этап сделки", "Воронка", "Дата создания", "Теги", "Основной контакт"},
			[][]string{{"30001", "Кухня", "150000", "anna@example.ru", "Первичный контакт", "Воронка", "05.01.2024 09:12", "vip, горячий", "Иван Петров"}, {"30002", "Крыша", "90000", "anna@example.ru", "Переговоры", "Воронка", "06.01.2024 10:00", "", "Пётр Иванов"}},
			[]string{`key: ["ID"]`, `title: { column: "Название сделки" }`, `bidValue: { column: "Бюджет" }`, `responsibleid: { column: "Ответственный", lookup: user }`,
				`stageid: { column: "Этап сделки", lookup: stage }`, `tags: { column: "Теги", split: "," }`, `contactid: { column: "Основной контакт", lookup: contact }`, `#   "Воронка"`}},
		{"ONLYOFFICE, English",
			[]string{"Title", "Client", "Description", "Currency", "Budget", "Bid type", "Responsible", "Probability of winning", "Expected close date", "Stage", "Tags"},
			[][]string{{"Kitchen", "Acme", "", "EUR", "1500", "Fixed bid", "anna@example.com", "40", "2024-03-15", "Initial contact", "vip"}, {"Roof", "Beta", "x", "EUR", "900", "Per hour", "anna@example.com", "20", "2024-04-30", "Negotiation", ""}},
			[]string{`title: { column: "Title" }`, `contactid: { column: "Client", lookup: contact }`, `bidCurrencyAbbr: { column: "Currency" }`, `bidValue: { column: "Budget" }`,
				`"Fixed bid": FixedBid`, `"Per hour": PerHour`, `responsibleid: { column: "Responsible", lookup: user }`, `successProbability: { column: "Probability of winning" }`,
				`expectedCloseDate: { column: "Expected close date" }`, `stageid: { column: "Stage", lookup: stage }`, `tags: { column: "Tags"`}},
		{"ONLYOFFICE, Russian",
			[]string{"Название", "Клиент", "Описание", "Валюта", "Бюджет", "Ответственный", "Вероятность успеха", "Ожидаемая дата закрытия", "Этап", "Теги"},
			[][]string{{"Кухня", "Ромашка", "", "RUB", "150000", "anna@example.ru", "40", "15.03.2024", "Первичный контакт", ""}},
			[]string{`title: { column: "Название" }`, `contactid: { column: "Клиент", lookup: contact }`, `description: { column: "Описание" }`, `bidCurrencyAbbr: { column: "Валюта" }`,
				`bidValue: { column: "Бюджет" }`, `responsibleid: { column: "Ответственный", lookup: user }`, `successProbability: { column: "Вероятность успеха" }`,
				`expectedCloseDate: { column: "Ожидаемая дата закрытия", format: "D.M.YYYY" }`, `stageid: { column: "Этап", lookup: stage }`, `tags: { column: "Теги"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := propose(t, "csv", tt.header, tt.rows, nil)
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("the proposal lacks %s:\n%s", want, out)
				}
			}
		})
	}
}
