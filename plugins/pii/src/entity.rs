//! Entity types and their catalogue: the names findings carry and, per type, its country, its
//! validation and its default score, so callers can choose what runs and see what each means.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{LazyLock, Mutex};

/// A kind of personal data or secret this detector can find, by its wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityType(&'static str);

impl EntityType {
    /// A person's name.
    pub const PERSON: EntityType = EntityType("PERSON");
    /// An e-mail address.
    pub const EMAIL_ADDRESS: EntityType = EntityType("EMAIL_ADDRESS");
    /// A telephone number, any country (numbering-plan validated).
    pub const PHONE_NUMBER: EntityType = EntityType("PHONE_NUMBER");
    /// A payment card number (Luhn-valid, known issuer range).
    pub const CREDIT_CARD: EntityType = EntityType("CREDIT_CARD");
    /// An International Bank Account Number (mod 97, per-country length).
    pub const IBAN_CODE: EntityType = EntityType("IBAN_CODE");
    /// An IPv4 or IPv6 address.
    pub const IP_ADDRESS: EntityType = EntityType("IP_ADDRESS");
    /// A US Social Security Number (SSA issuing rules).
    pub const US_SSN: EntityType = EntityType("US_SSN");
    /// An Australian Tax File Number (check digit).
    pub const AU_TFN: EntityType = EntityType("AU_TFN");
    /// An Australian Medicare card number (check digit).
    pub const AU_MEDICARE: EntityType = EntityType("AU_MEDICARE");
    /// An Australian Business Number (check digits).
    pub const AU_ABN: EntityType = EntityType("AU_ABN");
    /// A web address with a scheme or a `www.` host.
    pub const URL: EntityType = EntityType("URL");

    /// An entity type of a recognizer table; its name must be listed by that table's spec.
    pub(crate) const fn named(name: &'static str) -> EntityType {
        EntityType(name)
    }

    /// The wire name, such as `EMAIL_ADDRESS`.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// Parses a wire name (exact, upper case) of a type in the [`catalogue`].
    pub fn parse(name: &str) -> Option<EntityType> {
        by_name(name).map(|i| i.entity)
    }

    /// Every entity type, in catalogue order.
    pub fn all() -> impl Iterator<Item = EntityType> {
        catalogue().iter().map(|i| i.entity)
    }

    /// This type's catalogue entry.
    pub fn info(self) -> Option<&'static EntityInfo> {
        by_name(self.0)
    }
}

/// The catalogue entry named `name`: one hash lookup, since every call asks this of each of
/// the ~160 recognizers (a linear search cost more than the detection itself). Hashed with
/// FxHash, not SipHash: the keys are our own constant names, so there is nothing to flood, and
/// SipHash made this lookup about a tenth of native detection time.
fn by_name(name: &str) -> Option<&'static EntityInfo> {
    static INDEX: LazyLock<rustc_hash::FxHashMap<&'static str, usize>> = LazyLock::new(|| {
        let mut index = rustc_hash::FxHashMap::default();
        for (i, info) in catalogue().iter().enumerate() {
            index.entry(info.entity.0).or_insert(i);
        }
        index
    });
    INDEX.get(name).and_then(|&i| catalogue().get(i))
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// What the catalogue says about one entity type.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityInfo {
    /// The type.
    pub entity: EntityType,
    /// The ISO 3166-1 alpha-2 country it belongs to (`None` for types found everywhere).
    pub country: Option<&'static str>,
    /// Its kind: `pii` for personal data, `secret` for credentials.
    pub kind: Kind,
    /// How a candidate is validated beyond its shape, such as `Luhn checksum`; `none` if not.
    pub validation: &'static str,
    /// The score of a match with no context word near it (before validation raises it).
    pub default_score: f32,
    /// Whether it runs when the caller names neither entities nor countries. Types whose
    /// shape alone is ambiguous (five-digit postcodes, dates) run only when asked for.
    pub default_enabled: bool,
    /// One line for people choosing what to detect.
    pub description: &'static str,
}

/// Whether a type is personal data or a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Data about a person.
    Pii,
    /// A credential: a key, a token, a password.
    Secret,
}

impl Kind {
    /// The wire name: `pii` or `secret`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Pii => "pii",
            Kind::Secret => "secret",
        }
    }
}

/// The hand-written recognizers' types (`patterns`, `person`), in the order they are listed.
const CORE: &[(EntityType, &str, f32, &str)] = &[
    (
        EntityType::PERSON,
        "name gazetteer and capitalisation",
        0.6,
        "A person's name.",
    ),
    (
        EntityType::EMAIL_ADDRESS,
        "RFC 5322 shape, IDNA top-level domains",
        0.9,
        "An e-mail address.",
    ),
    (
        EntityType::PHONE_NUMBER,
        "numbering plan of the country (libphonenumber metadata)",
        0.6,
        "A telephone number of any country, national or international format.",
    ),
    (
        EntityType::CREDIT_CARD,
        "Luhn checksum and issuer range",
        0.6,
        "A payment card number.",
    ),
    (
        EntityType::IBAN_CODE,
        "ISO 13616 mod 97 and per-country length",
        0.9,
        "An International Bank Account Number.",
    ),
    (
        EntityType::IP_ADDRESS,
        "address parse (IPv4 octets, IPv6 groups)",
        0.6,
        "An IPv4 or IPv6 address.",
    ),
    (
        EntityType::US_SSN,
        "SSA issuing rules (area, group, serial)",
        0.5,
        "A US Social Security Number.",
    ),
    (
        EntityType::AU_TFN,
        "ATO weighted check digit",
        0.6,
        "An Australian Tax File Number.",
    ),
    (
        EntityType::AU_MEDICARE,
        "Medicare weighted check digit",
        0.65,
        "An Australian Medicare card number.",
    ),
    (
        EntityType::AU_ABN,
        "ATO modulus 89 check",
        0.6,
        "An Australian Business Number.",
    ),
    (
        EntityType::URL,
        "scheme or www. host",
        0.8,
        "A web address.",
    ),
];

/// Every entity type this detector knows: the hand-written recognizers' first, then each
/// recognizer table's, without duplicates.
pub fn catalogue() -> &'static [EntityInfo] {
    static ALL: LazyLock<Vec<EntityInfo>> = LazyLock::new(|| {
        let mut out: Vec<EntityInfo> = CORE
            .iter()
            .map(
                |&(entity, validation, default_score, description)| EntityInfo {
                    entity,
                    country: country_of(entity),
                    kind: Kind::Pii,
                    validation,
                    default_score,
                    default_enabled: true,
                    description,
                },
            )
            .collect();
        for spec in crate::recognizers::all() {
            if out.iter().all(|i| i.entity != spec.entity) {
                out.push(EntityInfo {
                    entity: spec.entity,
                    country: spec.country,
                    kind: spec.kind,
                    validation: spec.validation,
                    default_score: spec.patterns.iter().map(|p| p.score).fold(0.0, f32::max),
                    default_enabled: spec.default_enabled,
                    description: spec.description,
                });
            }
        }
        out
    });
    &ALL
}

/// The country of a core type, from its name's prefix.
fn country_of(entity: EntityType) -> Option<&'static str> {
    match entity.0.split_once('_') {
        Some(("US", _)) => Some("US"),
        Some(("AU", _)) => Some("AU"),
        _ => None,
    }
}

/// An entity type named by a caller's recognizer: its name is stored once for the life of the
/// instance (a component instance lives for one call), so findings can carry it like the
/// built-in types.
pub(crate) fn intern(name: &str) -> EntityType {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&known) = names.get(name) {
        return EntityType(known);
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    EntityType(leaked)
}
