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
    assert_eq!(describe().entity_types.len(), 11);
}

#[test]
fn email_and_url() {
    let t = "Mail jo.bloggs+x@example.co.uk or see https://example.com/a?b=1. Also (www.example.org), http://x.io/p).";
    assert!(has(
        t,
        EntityType::EmailAddress,
        "jo.bloggs+x@example.co.uk"
    ));
    assert!(has(t, EntityType::Url, "https://example.com/a?b=1"));
    assert!(has(t, EntityType::Url, "www.example.org"));
    assert!(has(t, EntityType::Url, "http://x.io/p"));
    // The domain of an e-mail address is not a URL.
    let e = "write to admin@www.example.com today";
    assert_eq!(
        find(e),
        vec![(EntityType::EmailAddress, "admin@www.example.com")]
    );
    assert!(has(
        "see https://en.wikipedia.org/wiki/Foo_(bar)!",
        EntityType::Url,
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
        assert!(has(&t, EntityType::PhoneNumber, p), "{p}: {:?}", find(&t));
    }
    for not in [
        "on 2024-03-22 at 11:43:58",
        "order 1678-4650-3790",
        "ref 7980075866",
        "total $54,640.56",
    ] {
        assert!(
            none_of(not, EntityType::PhoneNumber),
            "{not}: {:?}",
            find(not)
        );
    }
}

#[test]
fn credit_cards_need_luhn_and_a_known_range() {
    assert!(has(
        "card 4111 1111 1111 1111",
        EntityType::CreditCard,
        "4111 1111 1111 1111"
    ));
    assert!(none_of("card 4111 1111 1111 1112", EntityType::CreditCard));
    assert!(has(
        "Amex 3782-822463-10005 ok",
        EntityType::CreditCard,
        "3782-822463-10005"
    ));
    // Mastercard 2-series: 2221-2720.
    assert!(has(
        "card 2221000000000009",
        EntityType::CreditCard,
        "2221000000000009"
    ));
    assert!(has(
        "card 2720 9900 0000 0007",
        EntityType::CreditCard,
        "2720 9900 0000 0007"
    ));
    assert!(none_of("card 2721 0000 0000 0004", EntityType::CreditCard));
    // Luhn-valid but no issuer uses the prefix.
    assert!(none_of("card 7947 8585 9013 8818", EntityType::CreditCard));
    // Mixed separators are not a card.
    assert!(none_of("card 4111-1111 1111-1111", EntityType::CreditCard));
}

#[test]
fn ibans_need_mod97_and_country_length() {
    assert!(has(
        "IBAN GB82 WEST 1234 5698 7654 32 please",
        EntityType::IbanCode,
        "GB82 WEST 1234 5698 7654 32"
    ));
    assert!(has(
        "IBAN GB82WEST12345698765432.",
        EntityType::IbanCode,
        "GB82WEST12345698765432"
    ));
    assert!(none_of(
        "IBAN GB83 WEST 1234 5698 7654 32",
        EntityType::IbanCode
    ));
    // Right checksum rule, wrong length for the country.
    assert!(none_of(
        "IBAN GB82 WEST 1234 5698 7654 3",
        EntityType::IbanCode
    ));
}

#[test]
fn ip_addresses_but_not_versions() {
    assert!(has(
        "blocked 41.35.34.211 today",
        EntityType::IpAddress,
        "41.35.34.211"
    ));
    assert!(has(
        "from 10.1.2.3/24.",
        EntityType::IpAddress,
        "10.1.2.3/24"
    ));
    assert!(has(
        "server fe80::1e30:31d9:dacf:8b72.",
        EntityType::IpAddress,
        "fe80::1e30:31d9:dacf:8b72"
    ));
    assert!(has(
        "host 2001:0db8:bf43:91d8:0000:0000:23ba:6b01",
        EntityType::IpAddress,
        "2001:0db8:bf43:91d8:0000:0000:23ba:6b01"
    ));
    assert!(none_of(
        "upgrade to version 7.4.4.16 tonight",
        EntityType::IpAddress
    ));
    assert!(none_of(
        "build 10.0.18475.2358 and firmware 6.12.0.21",
        EntityType::IpAddress
    ));
    assert!(none_of(
        "compare versions v6.13.56 and 9.7.8.78 of the VPN client",
        EntityType::IpAddress
    ));
    assert!(none_of(
        "octets 256.1.1.1 and 1.2.3.4.5",
        EntityType::IpAddress
    ));
    assert!(none_of("at 11:43:58 and 12:30", EntityType::IpAddress));
}

#[test]
fn ssn_follows_ssa_rules() {
    assert!(has("SSN 214-13-6899", EntityType::UsSsn, "214-13-6899"));
    assert!(has(
        "SSN 474 66 5965 on file",
        EntityType::UsSsn,
        "474 66 5965"
    ));
    assert!(has(
        "verify the SSN ending of 257822699.",
        EntityType::UsSsn,
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
        assert!(none_of(&t, EntityType::UsSsn), "{bad}");
    }
    // Nine bare digits are only an SSN with context.
    assert!(none_of("id 257822699", EntityType::UsSsn));
}

#[test]
fn australian_identifiers_need_their_checksums() {
    assert!(has(
        "my TFN is 123 456 782",
        EntityType::AuTfn,
        "123 456 782"
    ));
    assert!(none_of("my TFN is 123 456 789", EntityType::AuTfn));
    assert!(has(
        "ABN 51 824 753 556",
        EntityType::AuAbn,
        "51 824 753 556"
    ));
    assert!(has("ABN 51824753556.", EntityType::AuAbn, "51824753556"));
    assert!(none_of("ABN 51 824 753 557", EntityType::AuAbn));
    assert!(has(
        "Medicare 2123 45670 1",
        EntityType::AuMedicare,
        "2123 45670 1"
    ));
    assert!(has(
        "Medicare 2123456701",
        EntityType::AuMedicare,
        "2123456701"
    ));
    assert!(none_of("Medicare 2123 45671 1", EntityType::AuMedicare));
    assert!(none_of("Medicare 1123 45670 1", EntityType::AuMedicare));
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
        assert!(has(t, EntityType::Person, name), "{t}: {:?}", find(t));
    }
    for t in [
        "Order CS725332 shipped; tracking shows it in Austin.",
        "Hi team, the Grafana dashboard is down.",
        "Dear Customer, your order shipped on Monday.",
    ] {
        assert!(none_of(t, EntityType::Person), "{t}: {:?}", find(t));
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
        has(t, EntityType::EmailAddress, "zoë@exämple.com"),
        "{:?}",
        find(t)
    );
    assert!(has(t, EntityType::PhoneNumber, "+61 2 9876 5432"));
    assert!(has(t, EntityType::Person, "Zoë Müller"), "{:?}", find(t));
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
    let only_email = DetectOptions::from_wire(&["EMAIL_ADDRESS"], None, false);
    assert_eq!(only_email.as_ref().map(|o| detect(t, o).len()), Ok(1));
    assert!(
        DetectOptions::from_wire(&["NOPE"], None, false)
            .is_err_and(|e| e.message.contains("unknown entity type NOPE"))
    );
    assert!(DetectOptions::from_wire::<&str>(&[], Some(1.5), false).is_err());
    assert!(DetectOptions::from_wire::<&str>(&[], Some(f32::NAN), false).is_err());
    let high = DetectOptions {
        min_score: Some(0.99),
        ..DetectOptions::default()
    };
    assert!(detect(t, &high).iter().all(|f| f.score >= 0.99));
}
