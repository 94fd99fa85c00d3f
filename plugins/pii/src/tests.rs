//! Unit tests of the public API: one per entity type with checksum decoys, plus overlap and
//! UTF-8 boundary properties.

use super::*;

fn find(text: &str) -> Vec<(EntityType, &str)> {
    detect(text, &DetectOptions::default())
        .into_iter()
        .map(|f| (f.entity_type, &text[f.start..f.end]))
        .collect()
}

fn has(text: &str, t: EntityType, value: &str) -> bool {
    find(text).contains(&(t, value))
}

fn none_of(text: &str, t: EntityType) -> bool {
    find(text).iter().all(|(e, _)| *e != t)
}

#[test]
fn warm_compiles_everything() {
    warm();
    let listed = describe().entity_types;
    // Every catalogue type is listed once, the hand-written recognizers' first.
    assert_eq!(listed.len(), catalogue().len());
    assert_eq!(listed[..3], ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"]);
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len());
}

#[test]
fn email_and_url() {
    let t = "Mail jo.bloggs+x@example.co.uk or see https://example.com/a?b=1. Also (www.example.org), http://x.io/p).";
    assert!(has(
        t,
        EntityType::EMAIL_ADDRESS,
        "jo.bloggs+x@example.co.uk"
    ));
    assert!(has(t, EntityType::URL, "https://example.com/a?b=1"));
    assert!(has(t, EntityType::URL, "www.example.org"));
    assert!(has(t, EntityType::URL, "http://x.io/p"));
    // The domain of an e-mail address is not a URL.
    let e = "write to admin@www.example.com today";
    assert_eq!(
        find(e),
        vec![(EntityType::EMAIL_ADDRESS, "admin@www.example.com")]
    );
    assert!(has(
        "see https://en.wikipedia.org/wiki/Foo_(bar)!",
        EntityType::URL,
        "https://en.wikipedia.org/wiki/Foo_(bar)"
    ));
}

#[test]
fn phones() {
    for p in [
        "+1 503 669 5678",
        "(512) 742-0419",
        "801-487-4561",
        "503.877.3706",
        "1 (213) 393-5325",
        "+1-303-456-5178",
        "0161 433 7344",
        "020 7022 8424",
        "07799 681849",
        "+44 (0)7918 362361",
        "+44 20 3735 1243",
        "0414 449 851",
        "08 8269 9360",
        "(07) 3957 0183",
        "+61 2 9876 5432",
        "+61 423 538 234",
        "1300 695 722",
        "+49 30 1234 5678",
    ] {
        let t = format!("please call me on {p}.");
        assert!(has(&t, EntityType::PHONE_NUMBER, p), "{p}: {:?}", find(&t));
    }
    for not in [
        "on 2024-03-22 at 11:43:58",
        "order 1678-4650-3790",
        "ref 7980075866",
        "total $54,640.56",
    ] {
        assert!(
            none_of(not, EntityType::PHONE_NUMBER),
            "{not}: {:?}",
            find(not)
        );
    }
}

#[test]
fn credit_cards_need_luhn_and_a_known_range() {
    assert!(has(
        "card 4111 1111 1111 1111",
        EntityType::CREDIT_CARD,
        "4111 1111 1111 1111"
    ));
    assert!(none_of("card 4111 1111 1111 1112", EntityType::CREDIT_CARD));
    assert!(has(
        "Amex 3782-822463-10005 ok",
        EntityType::CREDIT_CARD,
        "3782-822463-10005"
    ));
    // Mastercard 2-series: 2221-2720.
    assert!(has(
        "card 2221000000000009",
        EntityType::CREDIT_CARD,
        "2221000000000009"
    ));
    assert!(has(
        "card 2720 9900 0000 0007",
        EntityType::CREDIT_CARD,
        "2720 9900 0000 0007"
    ));
    assert!(none_of("card 2721 0000 0000 0004", EntityType::CREDIT_CARD));
    // Luhn-valid but no issuer uses the prefix.
    assert!(none_of("card 7947 8585 9013 8818", EntityType::CREDIT_CARD));
    // Mixed separators are not a card.
    assert!(none_of("card 4111-1111 1111-1111", EntityType::CREDIT_CARD));
}

#[test]
fn ibans_need_mod97_and_country_length() {
    assert!(has(
        "IBAN GB82 WEST 1234 5698 7654 32 please",
        EntityType::IBAN_CODE,
        "GB82 WEST 1234 5698 7654 32"
    ));
    assert!(has(
        "IBAN GB82WEST12345698765432.",
        EntityType::IBAN_CODE,
        "GB82WEST12345698765432"
    ));
    assert!(none_of(
        "IBAN GB83 WEST 1234 5698 7654 32",
        EntityType::IBAN_CODE
    ));
    // Right checksum rule, wrong length for the country.
    assert!(none_of(
        "IBAN GB82 WEST 1234 5698 7654 3",
        EntityType::IBAN_CODE
    ));
}

#[test]
fn ip_addresses_but_not_versions() {
    assert!(has(
        "blocked 41.35.34.211 today",
        EntityType::IP_ADDRESS,
        "41.35.34.211"
    ));
    assert!(has(
        "from 10.1.2.3/24.",
        EntityType::IP_ADDRESS,
        "10.1.2.3/24"
    ));
    assert!(has(
        "server fe80::1e30:31d9:dacf:8b72.",
        EntityType::IP_ADDRESS,
        "fe80::1e30:31d9:dacf:8b72"
    ));
    assert!(has(
        "host 2001:0db8:bf43:91d8:0000:0000:23ba:6b01",
        EntityType::IP_ADDRESS,
        "2001:0db8:bf43:91d8:0000:0000:23ba:6b01"
    ));
    assert!(none_of(
        "upgrade to version 7.4.4.16 tonight",
        EntityType::IP_ADDRESS
    ));
    assert!(none_of(
        "build 10.0.18475.2358 and firmware 6.12.0.21",
        EntityType::IP_ADDRESS
    ));
    assert!(none_of(
        "compare versions v6.13.56 and 9.7.8.78 of the VPN client",
        EntityType::IP_ADDRESS
    ));
    assert!(none_of(
        "octets 256.1.1.1 and 1.2.3.4.5",
        EntityType::IP_ADDRESS
    ));
    assert!(none_of("at 11:43:58 and 12:30", EntityType::IP_ADDRESS));
}

#[test]
fn ssn_follows_ssa_rules() {
    assert!(has("SSN 214-13-6899", EntityType::US_SSN, "214-13-6899"));
    assert!(has(
        "SSN 474 66 5965 on file",
        EntityType::US_SSN,
        "474 66 5965"
    ));
    assert!(has(
        "verify the SSN ending of 257822699.",
        EntityType::US_SSN,
        "257822699"
    ));
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "987-65-4321",
        "214-00-3456",
        "214-13-0000",
    ] {
        let t = format!("SSN {bad}");
        assert!(none_of(&t, EntityType::US_SSN), "{bad}");
    }
    // Nine bare digits are only an SSN with context.
    assert!(none_of("id 257822699", EntityType::US_SSN));
}

#[test]
fn australian_identifiers_need_their_checksums() {
    assert!(has(
        "my TFN is 123 456 782",
        EntityType::AU_TFN,
        "123 456 782"
    ));
    assert!(none_of("my TFN is 123 456 789", EntityType::AU_TFN));
    assert!(has(
        "ABN 51 824 753 556",
        EntityType::AU_ABN,
        "51 824 753 556"
    ));
    assert!(has("ABN 51824753556.", EntityType::AU_ABN, "51824753556"));
    assert!(none_of("ABN 51 824 753 557", EntityType::AU_ABN));
    assert!(has(
        "Medicare 2123 45670 1",
        EntityType::AU_MEDICARE,
        "2123 45670 1"
    ));
    assert!(has(
        "Medicare 2123456701",
        EntityType::AU_MEDICARE,
        "2123456701"
    ));
    assert!(none_of("Medicare 2123 45671 1", EntityType::AU_MEDICARE));
    assert!(none_of("Medicare 1123 45670 1", EntityType::AU_MEDICARE));
}

#[test]
fn person_names() {
    let cases = [
        (
            "Mario L. Diaz - please call the client back.",
            "Mario L. Diaz",
        ),
        ("Dear Anthony Serrano, we need your SSN.", "Anthony Serrano"),
        (
            "Hi support, my name is Natalie and I'm locked out.",
            "Natalie",
        ),
        ("Kind regards,\nDale", "Dale"),
        ("Thanks, Elliot Kelly", "Elliot Kelly"),
        ("I'm Derek Byrne. Fill in the form.", "Derek Byrne"),
        ("Please ask Mr. Okonkwo to call.", "Okonkwo"),
        ("hey Victoria Cook it's Larry, ring me", "Larry"),
        ("Escalation: Roy J. O'Neill says hi", "Roy J. O'Neill"),
    ];
    for (t, name) in cases {
        assert!(has(t, EntityType::PERSON, name), "{t}: {:?}", find(t));
    }
    for t in [
        "Order CS725332 shipped; tracking shows it in Austin.",
        "Hi team, the Grafana dashboard is down.",
        "Dear Customer, your order shipped on Monday.",
    ] {
        assert!(none_of(t, EntityType::PERSON), "{t}: {:?}", find(t));
    }
}

#[test]
fn findings_never_overlap_and_are_sorted() {
    let t = "Card 4111 1111 1111 1111, TFN 123 456 782, call +61 2 9876 5432 or 0414 449 851, ABN 51 824 753 556, \
             Medicare 2123 45670 1, SSN 214-13-6899, ip 10.0.0.1, jo@example.com https://example.com/x Mario L. Diaz";
    let found = detect(
        t,
        &DetectOptions {
            min_score: Some(0.0),
            ..DetectOptions::default()
        },
    );
    assert!(found.len() >= 10, "{found:?}");
    for w in found.windows(2) {
        assert!(w[0].end <= w[1].start, "{w:?}");
    }
}

#[test]
fn utf8_boundaries_hold_on_non_ascii_text() {
    let t = "Zoë Müller's e-mail zoë@exämple.com ☎ +61 2 9876 5432 — ÅÄÖ 4111 1111 1111 1111 日本語 Dr. Ødegaard";
    let found = detect(
        t,
        &DetectOptions {
            min_score: Some(0.0),
            explain: true,
            ..DetectOptions::default()
        },
    );
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "zoë@exämple.com"),
        "{:?}",
        find(t)
    );
    assert!(has(t, EntityType::PHONE_NUMBER, "+61 2 9876 5432"));
    assert!(has(t, EntityType::PERSON, "Zoë Müller"), "{:?}", find(t));
    for f in &found {
        assert!(f.start < f.end && f.end <= t.len());
        assert!(t.is_char_boundary(f.start) && t.is_char_boundary(f.end));
        assert!((0.0..=1.0).contains(&f.score));
        assert!(f.explanation.is_some());
    }
    // Every prefix of a multi-byte string, odd characters and an empty string: no panic, valid spans.
    let s = "é☎日\u{200B}𝄞 a@b.cd +44 7700 900123 Ça ÿ 1.2.3.4 ::1 ff::ff:ff 1";
    for (i, _) in s.char_indices() {
        for f in detect(
            &s[i..],
            &DetectOptions {
                min_score: Some(0.0),
                ..DetectOptions::default()
            },
        ) {
            assert!(s[i..].is_char_boundary(f.start) && s[i..].is_char_boundary(f.end));
        }
    }
    assert!(detect("", &DetectOptions::default()).is_empty());
}

#[test]
fn large_input_does_not_panic() {
    let mut t = String::new();
    for i in 0..2000 {
        t.push_str(&format!(
            "Row {i}: Jane Smith 4111 1111 1111 1111 9.9.9.9 ★ +61 2 9876 5432\n"
        ));
    }
    t.push_str(&"9".repeat(100_000));
    t.push_str(&":".repeat(10_000));
    let found = detect(&t, &DetectOptions::default());
    assert!(found.len() >= 6000);
}

#[test]
fn options_filter_and_validate() {
    let t = "Jane Smith, jane@example.com";
    let only_email = DetectOptions::from_wire(&["EMAIL_ADDRESS"], &[] as &[&str], None, false);
    assert_eq!(only_email.as_ref().map(|o| detect(t, o).len()), Ok(1));
    assert!(
        DetectOptions::from_wire(&["NOPE"], &[] as &[&str], None, false)
            .is_err_and(|e| e.message.contains("unknown entity type NOPE"))
    );
    assert!(DetectOptions::from_wire::<&str, &str>(&[], &[], Some(1.5), false).is_err());
    assert!(DetectOptions::from_wire::<&str, &str>(&[], &[], Some(f32::NAN), false).is_err());
    let high = DetectOptions {
        min_score: Some(0.99),
        ..DetectOptions::default()
    };
    assert!(detect(t, &high).iter().all(|f| f.score >= 0.99));
}

// Item 12: PII disguised with invisible, format or compatibility characters. Each test checks
// the entity type and that the reported span is the original, un-normalised text of the value.

/// `detect` with every score reported, for the invariant checks.
fn all_findings(text: &str) -> Vec<Finding> {
    detect(
        text,
        &DetectOptions {
            min_score: Some(0.0),
            ..DetectOptions::default()
        },
    )
}

/// Asserts the findings of `text` are sorted, non-overlapping and on char boundaries.
fn assert_invariants(text: &str) {
    let found = all_findings(text);
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?}");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}"
        );
    }
    for w in found.windows(2) {
        assert!(w[0].end <= w[1].start, "{w:?}");
    }
}

#[test]
fn zero_width_space_inside_an_email_is_seen_through() {
    let t = "write to bob\u{200B}@example.com today";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "bob\u{200B}@example.com"),
        "{:?}",
        find(t)
    );
    let t = "write to bob@exa\u{200C}mple\u{200D}.com\u{2060} today";
    assert!(
        has(
            t,
            EntityType::EMAIL_ADDRESS,
            "bob@exa\u{200C}mple\u{200D}.com"
        ),
        "{:?}",
        find(t)
    );
    assert_invariants(t);
}

#[test]
fn soft_hyphens_inside_an_email_and_a_name_are_seen_through() {
    let t = "mail bo\u{AD}b@exam\u{AD}ple.com now";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "bo\u{AD}b@exam\u{AD}ple.com"),
        "{:?}",
        find(t)
    );
    let t = "Thanks, Ren\u{AD}ee John\u{AD}son";
    assert!(
        has(t, EntityType::PERSON, "Ren\u{AD}ee John\u{AD}son"),
        "{:?}",
        find(t)
    );
    assert_invariants(t);
}

#[test]
fn nul_and_other_controls_are_seen_through() {
    let t = "mail bob\0@example.com now";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "bob\0@example.com"),
        "{:?}",
        find(t)
    );
    let t = "SSN 214-13-\u{1}6899\u{7F} on file";
    assert!(
        has(t, EntityType::US_SSN, "214-13-\u{1}6899"),
        "{:?}",
        find(t)
    );
    assert_invariants(t);
}

#[test]
fn fullwidth_at_digits_and_letters_are_folded() {
    let t = "mail bob\u{FF20}example.com now";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "bob\u{FF20}example.com"),
        "{:?}",
        find(t)
    );
    let t = "mail ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ now";
    assert!(
        has(
            t,
            EntityType::EMAIL_ADDRESS,
            "ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ"
        ),
        "{:?}",
        find(t)
    );
    let t = "card ４１１１ １１１１ １１１１ １１１１ thanks";
    assert!(
        has(
            t,
            EntityType::CREDIT_CARD,
            "４１１１ １１１１ １１１１ １１１１"
        ),
        "{:?}",
        find(t)
    );
    let t = "IBAN ＧＢ８２ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３２ please";
    assert!(
        has(
            t,
            EntityType::IBAN_CODE,
            "ＧＢ８２ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３２"
        ),
        "{:?}",
        find(t)
    );
    let t = "mail bob\u{FE6B}example.com now";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "bob\u{FE6B}example.com"),
        "{:?}",
        find(t)
    );
    assert_invariants(t);
}

#[test]
fn zero_width_space_inside_a_phone_number_is_seen_through() {
    let t = "please call me on 0414\u{200B} 449\u{200B} 851.";
    assert!(
        has(t, EntityType::PHONE_NUMBER, "0414\u{200B} 449\u{200B} 851"),
        "{:?}",
        find(t)
    );
    let t = "please call me on (512)\u{200B} 742-0419\u{200B}.";
    assert!(
        has(t, EntityType::PHONE_NUMBER, "(512)\u{200B} 742-0419"),
        "{:?}",
        find(t)
    );
    assert_invariants(t);
}

#[test]
fn card_digits_grouped_with_unicode_spaces_are_found() {
    for sp in [
        '\u{A0}', '\u{202F}', '\u{2007}', '\u{2009}', '\u{200A}', '\u{205F}', '\u{3000}',
    ] {
        let card = format!("4111{sp}1111{sp}1111{sp}1111");
        let t = format!("card {card} thanks");
        assert!(
            has(&t, EntityType::CREDIT_CARD, &card),
            "U+{:04X}: {:?}",
            sp as u32,
            find(&t)
        );
        assert_invariants(&t);
    }
}

#[test]
fn unicode_hyphens_and_bidi_controls_are_seen_through() {
    let t = "SSN 214\u{2011}13\u{2011}6899";
    assert!(
        has(t, EntityType::US_SSN, "214\u{2011}13\u{2011}6899"),
        "{:?}",
        find(t)
    );
    let t = "please call me on 801\u{2010}487\u{2013}4561.";
    assert!(
        has(t, EntityType::PHONE_NUMBER, "801\u{2010}487\u{2013}4561"),
        "{:?}",
        find(t)
    );
    let t = "please call me on 801\u{2010}487\u{2010}4561.";
    assert!(
        has(t, EntityType::PHONE_NUMBER, "801\u{2010}487\u{2010}4561"),
        "{:?}",
        find(t)
    );
    let t = "card 4111\u{2014}1111\u{2013}1111\u{2012}1111 ok";
    assert!(
        has(
            t,
            EntityType::CREDIT_CARD,
            "4111\u{2014}1111\u{2013}1111\u{2012}1111"
        ),
        "{:?}",
        find(t)
    );
    // Span starts at the first kept character and ends after the last one, so the isolating
    // controls around the address are not part of it.
    let t = "mail \u{2066}\u{202E}jo@example.com\u{202C}\u{2069} now \u{FEFF}";
    let found = detect(t, &DetectOptions::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(&t[found[0].start..found[0].end], "jo@example.com");
    assert_eq!(found[0].entity_type, EntityType::EMAIL_ADDRESS);
    assert_invariants(t);
}

#[test]
fn clean_text_offsets_are_unchanged() {
    // Pure ASCII and non-ASCII text needing no folding report their usual offsets.
    let t = "Mail jo@example.com or call 0414 449 851.";
    let found = detect(t, &DetectOptions::default());
    let spans: Vec<(EntityType, usize, usize)> = found
        .iter()
        .map(|f| (f.entity_type, f.start, f.end))
        .collect();
    assert_eq!(
        spans,
        vec![
            (EntityType::EMAIL_ADDRESS, 5, 19),
            (EntityType::PHONE_NUMBER, 28, 40)
        ]
    );
    let t = "Zoë: zoë@exämple.com ☎ 0414 449 851";
    let spans: Vec<(EntityType, usize, usize)> = detect(t, &DetectOptions::default())
        .iter()
        .map(|f| (f.entity_type, f.start, f.end))
        .collect();
    assert!(
        spans.contains(&(EntityType::EMAIL_ADDRESS, 6, 23)),
        "{spans:?}"
    );
    assert!(
        spans.contains(&(EntityType::PHONE_NUMBER, 28, 40)),
        "{spans:?}"
    );
    // A folded character after the value does not move it.
    let plain = detect(
        "jo@example.com ok 4111 1111 1111 1111",
        &DetectOptions::default(),
    );
    let folded = detect(
        "jo@example.com\u{A0}ok 4111 1111 1111 1111\u{200B}",
        &DetectOptions::default(),
    );
    assert_eq!(plain[0].start, folded[0].start);
    assert_eq!(plain[0].end, folded[0].end);
    assert_eq!(plain[1].start + 1, folded[1].start);
    assert_eq!(plain[1].end + 1, folded[1].end);
}

#[test]
fn disguised_hard_negatives_stay_negative() {
    for (t, e) in [
        (
            "upgrade to version ７.４.４.１６ tonight",
            EntityType::IP_ADDRESS,
        ),
        ("build 10\u{200B}.0.18475.2358", EntityType::IP_ADDRESS),
        (
            "card 4111\u{A0}1111\u{A0}1111\u{A0}1112",
            EntityType::CREDIT_CARD,
        ),
        (
            "card ７９４７ ８５８５ ９０１３ ８８１８",
            EntityType::CREDIT_CARD,
        ),
        ("card 4111\u{A0}1111 1111-1111", EntityType::CREDIT_CARD),
        ("SSN 666\u{2011}12\u{2011}3456", EntityType::US_SSN),
        ("SSN 987\u{AD}-65-4321", EntityType::US_SSN),
        (
            "on 2024\u{2011}03\u{2011}22 at 11:43:58",
            EntityType::PHONE_NUMBER,
        ),
        ("order 1678\u{A0}4650\u{A0}3790", EntityType::PHONE_NUMBER),
        ("total $54,640.56\u{200B}", EntityType::PHONE_NUMBER),
        (
            "IBAN ＧＢ８３ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３２",
            EntityType::IBAN_CODE,
        ),
        ("my TFN is 123\u{202F}456\u{202F}789", EntityType::AU_TFN),
        (
            "Dear Cus\u{AD}tomer, your order shipped on Monday.",
            EntityType::PERSON,
        ),
        (
            "octets 256.1.1.1 and 1.2.3.4.5\u{FEFF}",
            EntityType::IP_ADDRESS,
        ),
    ] {
        assert!(none_of(t, e), "{t:?}: {:?}", find(t));
        assert_invariants(t);
    }
    // Sentence dashes are not folded into hyphens, so they do not glue onto a number.
    let t = "Jane\u{2014}0414 449 851";
    assert!(
        has(t, EntityType::PHONE_NUMBER, "0414 449 851"),
        "{:?}",
        find(t)
    );
}

#[test]
fn text_of_only_invisible_characters_finds_nothing() {
    assert!(all_findings("\u{200B}\u{AD}\0\u{FEFF}\u{2066}").is_empty());
    assert_invariants("\u{200B}a\u{AD}@\0b.cd\u{FEFF}");
}

#[test]
fn sentence_dashes_still_set_off_a_name() {
    // Dashes fold to `-` only between digits, so in prose they still set off a name.
    for (t, name) in [
        ("Regards \u{2013} Dale", "Dale"),
        ("Regards \u{2014} Dale", "Dale"),
        ("Thanks \u{2013} Jane Smith", "Jane Smith"),
    ] {
        let found = detect(t, &DetectOptions::default());
        assert!(
            found
                .iter()
                .any(|f| &t[f.start..f.end] == name && f.score >= 0.7),
            "{t:?}: {found:?}"
        );
    }
}

#[test]
fn adjacent_ungrouped_cards_are_both_found() {
    let t = "cards 4111111111111111 4111111111111111 on file";
    let cards: Vec<&str> = find(t)
        .into_iter()
        .filter(|(e, _)| *e == EntityType::CREDIT_CARD)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        cards,
        ["4111111111111111", "4111111111111111"],
        "{:?}",
        find(t)
    );
    let t = "cards 5555555555554444-4111111111111111.";
    assert_eq!(
        find(t)
            .iter()
            .filter(|(e, _)| *e == EntityType::CREDIT_CARD)
            .count(),
        2,
        "{:?}",
        find(t)
    );
    // A short number beside a card still makes it one group of something longer.
    assert!(none_of(
        "card 1234 4111111111111111",
        EntityType::CREDIT_CARD
    ));
    assert!(none_of(
        "card 4111111111111111 1234",
        EntityType::CREDIT_CARD
    ));
}

#[test]
fn ibans_with_hyphen_separators() {
    assert!(has(
        "IBAN GB82-WEST-1234-5698-7654-32 please",
        EntityType::IBAN_CODE,
        "GB82-WEST-1234-5698-7654-32"
    ));
    assert!(has(
        "IBAN DE89-3704-0044-0532-0130-00.",
        EntityType::IBAN_CODE,
        "DE89-3704-0044-0532-0130-00"
    ));
    // Same checks as the spaced form: checksum, length, one kind of separator, nothing after.
    assert!(none_of(
        "IBAN GB83-WEST-1234-5698-7654-32",
        EntityType::IBAN_CODE
    ));
    assert!(none_of(
        "IBAN GB82-WEST 1234-5698 7654-32",
        EntityType::IBAN_CODE
    ));
    assert!(none_of(
        "IBAN GB82-WEST-1234-5698-7654-32-1",
        EntityType::IBAN_CODE
    ));
}

#[test]
fn ssn_with_dot_separators() {
    assert!(has("SSN 214.13.6899", EntityType::US_SSN, "214.13.6899"));
    assert!(has(
        "social security 474.66.5965 on file",
        EntityType::US_SSN,
        "474.66.5965"
    ));
    assert!(none_of("SSN 666.12.3456", EntityType::US_SSN));
    assert!(none_of("SSN 214.13-6899", EntityType::US_SSN));
    assert!(none_of("version 214.13.6899.1", EntityType::US_SSN));
}

#[test]
fn ipv6_embedded_ipv4_zone_prefix_and_loopback() {
    for (t, ip) in [
        ("from ::ffff:192.0.2.1 today", "::ffff:192.0.2.1"),
        ("from 64:ff9b::198.51.100.7.", "64:ff9b::198.51.100.7"),
        ("ping fe80::1%eth0 now", "fe80::1%eth0"),
        ("route 2001:db8::/32 here", "2001:db8::/32"),
        ("connect to ::1 on port 80", "::1"),
        ("host [::1]:8080", "::1"),
    ] {
        assert!(has(t, EntityType::IP_ADDRESS, ip), "{t}: {:?}", find(t));
    }
    assert!(none_of("at 11:43:58 and 12:30", EntityType::IP_ADDRESS));
    assert!(none_of("use std::io and a::b", EntityType::IP_ADDRESS));
    assert!(none_of("from ::ffff:300.0.2.1", EntityType::IP_ADDRESS));
    assert!(none_of("ratio 1::2 and ::", EntityType::IP_ADDRESS));
}

#[test]
fn email_with_punycode_tld() {
    let t = "mail a@xn--d1acufc.xn--p1ai today";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "a@xn--d1acufc.xn--p1ai"),
        "{:?}",
        find(t)
    );
    let t = "mail Bob@Example.XN--80ASEHDB.";
    assert!(
        has(t, EntityType::EMAIL_ADDRESS, "Bob@Example.XN--80ASEHDB"),
        "{:?}",
        find(t)
    );
    assert!(has(
        "mail jo@example.com.",
        EntityType::EMAIL_ADDRESS,
        "jo@example.com"
    ));
}

/// What the component exports goes through the SDK trait: wire names, option errors of kind
/// `option`, explanations only when asked for.
#[test]
fn the_sdk_export_reports_wire_names_and_option_errors() {
    let info = Builtin::describe();
    assert_eq!(
        (info.name.as_str(), info.entity_types.len()),
        (NAME, catalogue().len())
    );
    let nope = warden_sdk::pii::DetectOptions {
        entities: vec!["NOPE".to_owned()],
        ..Default::default()
    };
    assert!(matches!(
        Builtin::detect("x", &nope),
        Err(warden_sdk::Error::InvalidInput(e)) if e.kind == OPTION_KIND && e.position.is_none()
    ));
    let text = "Jane Smith, jane@example.com";
    let plain = Builtin::detect(text, &Default::default()).unwrap();
    let native = detect(text, &DetectOptions::default());
    assert_eq!(plain.len(), native.len());
    for (w, n) in plain.iter().zip(&native) {
        assert_eq!(
            (w.entity_type.as_str(), w.start, w.end, w.score),
            (n.entity_type.as_str(), n.start, n.end, n.score)
        );
        assert_eq!(w.explanation, None);
    }
    let explain = warden_sdk::pii::DetectOptions {
        explain: true,
        ..Default::default()
    };
    let explained = Builtin::detect(text, &explain).unwrap();
    assert!(explained.iter().all(|f| f.explanation.is_some()));
}

/// One ported Presidio recognizer case: with only `entity` asked for and no score threshold
/// (Presidio's tests run recognizers alone, threshold 0), the findings are exactly `spans`
/// (byte offsets; the cases are ASCII, so they equal Presidio's character offsets), each scoring
/// within `min..=max`.
pub(crate) fn presidio_case(
    entity: &str,
    text: &str,
    spans: &[(usize, usize)],
    min: f32,
    max: f32,
) {
    let opts = DetectOptions::from_wire(&[entity], &[] as &[&str], Some(0.0), true).unwrap();
    let found = detect(text, &opts);
    let got: Vec<(usize, usize)> = found.iter().map(|f| (f.start, f.end)).collect();
    assert_eq!(got, spans, "{entity} in {text:?}: {found:?}");
    for f in &found {
        assert!(
            (min - 1e-6..=max + 1e-6).contains(&f.score),
            "{entity} in {text:?}: score {} outside {min}..={max} ({:?})",
            f.score,
            f.explanation
        );
    }
}

/// A national number printed without its trunk `0` (Presidio's Turkish cases) is that
/// country's only when the caller names the country: ten bare digits are anything otherwise.
#[test]
fn national_numbers_without_a_trunk_prefix_need_the_callers_country() {
    let spans = |text: &str, countries: &[&str]| -> Vec<(usize, usize)> {
        let opts =
            DetectOptions::from_wire(&["PHONE_NUMBER"], countries, Some(0.0), false).unwrap();
        detect(text, &opts)
            .iter()
            .map(|f| (f.start, f.end))
            .collect()
    };
    for (text, span) in [
        ("Phone: 5321234567", (7, 17)),
        ("532 123 45 67", (0, 13)),
        ("532-123-45-67", (0, 13)),
    ] {
        assert_eq!(spans(text, &["TR"]), [span], "{text}");
        assert_eq!(spans(text, &[]), [], "{text} without a country");
    }
    // Not a valid Turkish number: still nothing.
    assert_eq!(spans("Order 1234567890", &["TR"]), []);
    // At the default threshold only with a phone word near it.
    let default = |text: &str| {
        let opts = DetectOptions::from_wire(&["PHONE_NUMBER"], &["TR"], None, false).unwrap();
        detect(text, &opts).len()
    };
    assert_eq!(
        (default("Phone: 5321234567"), default("ref 5321234567")),
        (1, 0)
    );
}

/// Telephone numbers of other countries, validated against their numbering plans
/// (libphonenumber's metadata): each was missed by the hand-written US/UK/AU patterns.
#[test]
fn phone_numbers_worldwide() {
    for (text, number) in [
        (
            "Ring the Rome office on +39 06 678 4343 today.",
            "+39 06 678 4343",
        ),
        ("My Globe number: +639171234567", "+639171234567"),
        ("WhatsApp +905321234567 after six", "+905321234567"),
        ("携帯 090-1234-5678 まで", "090-1234-5678"),
        ("call me on 13812345678 tomorrow", "13812345678"),
        ("Tel. 030 1234567 (Berlin)", "030 1234567"),
    ] {
        assert!(
            has(text, EntityType::PHONE_NUMBER, number),
            "{text}: {:?}",
            find(text)
        );
    }
    // Numbering plans refuse what has a phone's shape but no valid number.
    for text in [
        "+39 00 000 0000",
        "+1 011 555 0100",
        "ref 13812345678 in batch 7",
        "build 0123456789 released",
    ] {
        assert!(
            none_of(text, EntityType::PHONE_NUMBER),
            "{text}: {:?}",
            find(text)
        );
    }
}

/// A caller's recognizer runs with the defaults, with named entities that include its type,
/// and alone when only its type is named; another named type switches it off.
#[test]
fn ad_hoc_recognizers_follow_the_entities_asked_for() {
    use warden_sdk::pii::{AnalyzeOptions, Analyzer, DetectOptions as Wire, Pattern, Recognizer};
    let text = "EMP-123456 wrote from ann@example.com";
    let emp = Recognizer {
        name: "emp".into(),
        entity_type: "EMPLOYEE_ID".into(),
        patterns: vec![Pattern {
            name: "emp".into(),
            regex: "EMP-[0-9]{6}".into(),
            score: 0.9,
        }],
        ..Default::default()
    };
    let run = |entities: &[&str]| {
        let opts = AnalyzeOptions {
            base: Wire {
                entities: entities.iter().map(|e| (*e).to_owned()).collect(),
                ..Default::default()
            },
            recognizers: vec![emp.clone()],
            ..Default::default()
        };
        let mut types: Vec<String> = Builtin::analyze(text, &opts)
            .unwrap()
            .into_iter()
            .map(|f| f.entity_type)
            .collect();
        types.sort();
        types
    };
    assert_eq!(run(&[]), ["EMAIL_ADDRESS", "EMPLOYEE_ID"]);
    assert_eq!(run(&["EMPLOYEE_ID"]), ["EMPLOYEE_ID"]);
    assert_eq!(
        run(&["EMPLOYEE_ID", "EMAIL_ADDRESS"]),
        ["EMAIL_ADDRESS", "EMPLOYEE_ID"]
    );
    assert_eq!(run(&["EMAIL_ADDRESS"]), ["EMAIL_ADDRESS"]);
}
