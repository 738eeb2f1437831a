//! Deterministic prose, names, ids, numbers and timestamps for the generated envelopes.

/// The vocabulary of generated prose: about 1 070 distinct English words, common function
/// words first, then general and domain (business, technology, science, politics) words.
/// Position is rank: words are drawn with Zipf–Mandelbrot weights `1 / (rank + 2.7)`.
pub(super) const VOCABULARY: &str = "
the of and to a in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there one all we their been has would when who will more no if out
so said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through
back years where much your way well down should because each just those people how too little
state good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against go came
right used take three
system data report team service market project process number group company result support level
customer value change point order model information use price rate area issue product plan case
question period cost quality control policy program analysis study research source risk access
user network version release test review update request response task agent client server message
record account payment invoice contract budget revenue growth demand supply share increase decrease
average total estimate forecast trend region country city office staff manager director board
member partner vendor supplier provider platform tool feature option setting limit threshold
window buffer queue cache storage memory disk file folder document page section chapter table
figure chart line column row field entry item list set map key index query search filter sort
match score rank weight factor signal event log trace metric alert incident outage failure error
warning status stage phase step action decision approval draft proposal summary note comment
feedback survey interview meeting call email thread channel topic subject content text image video
audio stream batch job pipeline workflow schedule deadline target goal objective milestone roadmap
strategy approach method technique practice standard guideline rule requirement specification
design architecture component module package library framework interface protocol format schema
type class object instance property attribute parameter argument variable function procedure
routine handler callback hook plugin extension integration connector adapter gateway proxy
endpoint route path address domain host port socket connection session token credential
certificate secret password identity role permission scope audit compliance regulation law court
judge ruling appeal filing claim evidence witness statement hearing trial
reduce improve expand extend allow enable prevent avoid require include exclude provide receive
send deliver return accept reject approve deny confirm verify validate check measure monitor track
store save load read write create delete remove replace modify adjust configure install deploy
run execute start stop pause resume cancel retry fail succeed complete finish begin continue
follow lead manage handle compute calculate compare combine merge split join connect disconnect
open close lock unlock publish subscribe notify describe explain discuss argue suggest recommend
propose consider assume expect predict evaluate assess analyze examine inspect investigate explore
discover identify detect determine define specify establish maintain operate serve offer sell buy
pay charge rent lease borrow lend invest spend earn raise lower cut drop rise fall grow shrink
double triple exceed reach meet miss hit pass move shift transfer migrate convert transform
translate summarize extract collect gather sample select choose prefer decide prepare organize
arrange assign allocate distribute divide multiply add subtract count sum cluster classify label
tag annotate mark flag highlight mention cite quote reference link attach embed
large small high low strong weak fast slow early late recent current previous next final initial
primary secondary main major minor critical important significant relevant useful effective
efficient reliable stable secure safe available ready active inactive closed public private
internal external local remote global regional national international annual monthly weekly daily
hourly quarterly short wide narrow deep full empty clear simple complex common rare typical normal
unusual specific general particular various several multiple single different similar equal
separate independent direct indirect positive negative neutral partial incomplete correct
incorrect valid invalid true false possible likely unlikely certain uncertain expected unexpected
modern traditional digital physical financial economic political social technical legal medical
environmental commercial industrial residential urban rural northern southern eastern western
central coastal
water energy power oil gas electricity carbon emissions climate weather temperature rainfall
drought flood storm wind solar battery grid plant factory warehouse shop restaurant hotel hospital
school university college student teacher professor doctor nurse patient treatment therapy drug
vaccine dose symptom disease infection virus bacteria cell gene protein tissue organ brain heart
blood bone muscle skin body health care insurance coverage benefit pension tax income wage salary
bonus loan debt credit interest mortgage bond stock equity fund portfolio asset liability capital
cash profit loss margin earnings dividend valuation acquisition merger deal bid auction sale
purchase shipment delivery freight cargo container truck train ship plane flight airport road
bridge tunnel railway vehicle car engine fuel speed distance traffic passenger driver pilot crew
computer software hardware chip processor sensor device phone laptop screen keyboard camera
printer robot machine algorithm neural training inference embedding vector matrix tensor gradient
accuracy precision recall benchmark dataset corpus prompt completion context latency throughput
bandwidth capacity scale node replica shard partition leader follower consensus election
heartbeat timeout backoff circuit breaker consumer producer broker offset commit rollback
transaction isolation snapshot backup restore migration constraint trigger view cursor
population household family child parent mother father son daughter brother sister friend
neighbor community village town county province district council government minister president
senator governor mayor vote voter party campaign candidate reform deficit spending agency
department committee bill act amendment treaty agreement sanction tariff trade export import
border security defense army military soldier officer police crime arrest investigation prison
sentence
history culture art music film book novel story author writer editor reader journal article paper
newspaper magazine website blog post headline photo series episode season game player coach league
championship tournament win draw fan stadium ticket
morning afternoon evening night week month quarter decade century today tomorrow yesterday monday
tuesday wednesday thursday friday saturday sunday january february march april june july august
september october november december spring summer autumn winter
however therefore although despite whereas meanwhile moreover furthermore nevertheless instead
otherwise perhaps probably usually often sometimes rarely always nearly almost approximately
roughly mostly largely partly fully already again further later soon recently currently
previously finally initially originally eventually immediately quickly slowly carefully clearly
directly simply especially particularly generally specifically typically
";

/// Syllables of generated rare words (names, products, technical terms).
pub(super) const SYLLABLES: [&str; 40] = [
    "ka", "lo", "min", "dra", "vel", "tor", "ix", "qua", "ser", "bel", "on", "ar", "ith", "mor",
    "zen", "pel", "cor", "dan", "fi", "gra", "nu", "sta", "rek", "ol", "vi", "pra", "tes", "um",
    "lin", "ha", "bro", "sk", "ey", "mat", "ro", "ca", "den", "wu", "jo", "ness",
];

pub(super) const FIRST_NAMES: [&str; 32] = [
    "Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kavya",
    "Lars", "Mei", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zofia", "Arjun", "Beatriz", "Carlos", "Dmitri", "Esther", "Felix",
];

pub(super) const LAST_NAMES: [&str; 32] = [
    "Okafor",
    "Schmidt",
    "Nakamura",
    "Silva",
    "Kowalski",
    "Haddad",
    "Johansson",
    "Patel",
    "Moreau",
    "Rossi",
    "Novak",
    "Garcia",
    "Kim",
    "Nguyen",
    "Ivanova",
    "Murphy",
    "Dubois",
    "Yilmaz",
    "Costa",
    "Andersen",
    "Fischer",
    "Lopez",
    "Tanaka",
    "Mensah",
    "Horvat",
    "Berg",
    "Walsh",
    "Reyes",
    "Sato",
    "Weber",
    "Ali",
    "Olsen",
];

pub(super) const DOMAINS: [&str; 12] = [
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "research.example.edu",
    "news.example.com",
    "data.example.io",
    "shop.example.co.uk",
    "api.example.dev",
    "docs.example.org",
    "blog.example.net",
    "archive.example.com",
    "labs.example.ai",
];

pub(super) const COUNTRIES: [&str; 24] = [
    "DE", "FR", "US", "GB", "JP", "BR", "IN", "NG", "KE", "CA", "AU", "NL", "SE", "PL", "ES", "IT",
    "MX", "KR", "TR", "ZA", "EG", "AR", "VN", "ID",
];

/// A small xorshift64* generator: deterministic and dependency-free.
#[derive(Debug)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi]`.
    pub(super) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// Generates prose and the identifiers, numbers and timestamps of realistic payloads,
/// deterministically from a seed.
///
/// Prose tokens are 87 % vocabulary words drawn with Zipf–Mandelbrot weights
/// `1 / (rank + 2.7)` over the vocabulary (`VOCABULARY`), 6 % the document's 20 topic terms, 2 % new
/// syllable-built words, and 5 % numbers, percentages, amounts, dates, timestamps, ids, URLs
/// and versions; `PHRASE_REUSE` (20 %) of the positions repeat a 2–4 token phrase from earlier in
/// the document. With these settings the prose alone compresses like real English prose
/// (see the README), slightly worse at 16 KiB and above.
#[derive(Debug)]
pub struct Gen {
    pub(super) rng: Rng,
    pub(super) words: Vec<&'static str>,
    /// Cumulative Zipf–Mandelbrot weights of `words`, normalised to end at 1.
    cumulative: Vec<f64>,
    /// The document's own terms (less common words and names), which it keeps coming back to.
    topics: Vec<String>,
    /// Tokens of prose written so far, for repeated phrases.
    history: Vec<String>,
}

/// Share of prose positions that repeat a 2–4 token phrase written earlier.
const PHRASE_REUSE: f64 = 0.20;

/// 2025-06-01T00:00:00Z: the generated timestamps fall in the 120 days after it.
const BASE_UNIX_SECONDS: i64 = 1_748_736_000;

impl Gen {
    /// The number of distinct words of the vocabulary.
    pub fn vocabulary_len(&self) -> usize {
        self.words.len()
    }

    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut words: Vec<&'static str> = Vec::new();
        for word in VOCABULARY.split_whitespace() {
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let mut cumulative = Vec::with_capacity(words.len());
        let mut sum = 0.0;
        for rank in 0..words.len() {
            sum += 1.0 / (rank as f64 + 2.7);
            cumulative.push(sum);
        }
        for c in &mut cumulative {
            *c /= sum;
        }
        let mut g = Self {
            rng: Rng::new(seed),
            words,
            cumulative,
            topics: Vec::new(),
            history: Vec::new(),
        };
        for i in 0..20 {
            let term = if i % 5 < 3 {
                let rank = g.rng.range(150, g.words.len() as u64 - 1) as usize;
                g.words[rank].to_owned()
            } else {
                Self::capitalized(&g.rare_word())
            };
            g.topics.push(term);
        }
        g
    }

    pub(super) fn common_word(&mut self) -> &'static str {
        let u = self.rng.unit();
        let rank = self.cumulative.partition_point(|&c| c < u);
        self.words[rank.min(self.words.len() - 1)]
    }

    pub(super) fn rare_word(&mut self) -> String {
        let syllables = self.rng.range(2, 4);
        (0..syllables).map(|_| *self.rng.pick(&SYLLABLES)).collect()
    }

    pub(super) fn capitalized(word: &str) -> String {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    pub(super) fn person(&mut self) -> String {
        format!(
            "{} {}",
            self.rng.pick(&FIRST_NAMES),
            self.rng.pick(&LAST_NAMES)
        )
    }

    /// A ULID-shaped id (Crockford base32: 48-bit millisecond time, 80 random bits).
    pub(super) fn ulid(&mut self) -> String {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let millis = (BASE_UNIX_SECONDS as u64) * 1000 + self.rng.range(0, 120 * 86_400_000);
        let random = (u128::from(self.rng.next_u64()) << 16) ^ u128::from(self.rng.next_u64());
        let value = (u128::from(millis) << 80) | (random & ((1u128 << 80) - 1));
        (0..26)
            .rev()
            .map(|i| ALPHABET[((value >> (5 * i)) & 31) as usize] as char)
            .collect()
    }

    pub(super) fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.rng.next_u64()));
        }
        out.truncate(len);
        out
    }

    pub(super) fn base62(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..len).map(|_| *self.rng.pick(ALPHABET) as char).collect()
    }

    pub(super) fn timestamp(&mut self) -> String {
        let seconds = BASE_UNIX_SECONDS + self.rng.range(0, 120 * 86_400) as i64;
        let millis = if self.rng.chance(0.7) {
            self.rng.range(0, 999) as i64
        } else {
            0
        };
        asap_model::Timestamp::from_unix_micros(seconds * 1_000_000 + millis * 1_000).to_string()
    }

    pub(super) fn date(&mut self) -> String {
        self.timestamp()[..10].to_owned()
    }

    pub(super) fn url(&mut self) -> String {
        let host = self.rng.pick(&DOMAINS).to_owned();
        format!(
            "https://{host}/{}/{}-{}",
            self.common_word(),
            self.rare_word(),
            self.rng.range(1, 99_999)
        )
    }

    pub(super) fn amount(&mut self) -> f64 {
        (self.rng.range(100, 2_500_000) as f64) / 100.0
    }

    /// One token of prose: about 87 % vocabulary words, 6 % the document's topic terms, 2 %
    /// new rare words, 5 % numbers, amounts, dates, timestamps, ids, URLs and versions.
    pub(super) fn token(&mut self) -> String {
        let r = self.rng.unit();
        let token = if r < 0.870 {
            self.common_word().to_owned()
        } else if r < 0.930 {
            let i = self.rng.range(0, self.topics.len() as u64 - 1) as usize;
            self.topics[i].clone()
        } else if r < 0.950 {
            self.rare_word()
        } else if r < 0.972 {
            let digits = self.rng.range(1, 5) as u32;
            self.rng.range(1, 10u64.pow(digits)).to_string()
        } else if r < 0.982 {
            let value = self.rng.range(1, 9_999) as f64 / 10.0;
            if self.rng.chance(0.5) {
                format!("{value:.1}%")
            } else {
                format!("{:.2}", value / 7.0)
            }
        } else if r < 0.986 {
            format!("${:.2}", self.amount())
        } else if r < 0.991 {
            if self.rng.chance(0.5) {
                self.timestamp()
            } else {
                self.date()
            }
        } else if r < 0.995 {
            match self.rng.range(0, 3) {
                0 => self.ulid(),
                1 => format!("INC-{}", self.rng.range(10_000, 99_999)),
                2 => self.hex(12),
                _ => format!("ord_{}", self.base62(14)),
            }
        } else if r < 0.998 {
            self.url()
        } else {
            format!(
                "v{}.{}.{}",
                self.rng.range(0, 9),
                self.rng.range(0, 30),
                self.rng.range(0, 99)
            )
        };
        self.history.push(token.clone());
        token
    }

    /// The next `n ≥ 1` tokens of prose: new ones, or (with probability [`PHRASE_REUSE`]) a
    /// phrase of up to `n` tokens repeated from earlier in the document.
    pub(super) fn next_tokens(&mut self, n: u64) -> Vec<String> {
        if n >= 2 && self.history.len() >= 16 && self.rng.chance(PHRASE_REUSE) {
            let len = self.rng.range(2, n.min(4)) as usize;
            let start = self.rng.range(0, (self.history.len() - len) as u64) as usize;
            return self.history[start..start + len].to_vec();
        }
        vec![self.token()]
    }

    pub(super) fn words(&mut self, count: u64) -> String {
        let mut out = Vec::with_capacity(count as usize);
        while (out.len() as u64) < count {
            let n = count - out.len() as u64;
            out.extend(self.next_tokens(n));
        }
        out.join(" ")
    }

    /// A sentence of 6–28 tokens.
    pub fn sentence(&mut self) -> String {
        let count = self.rng.range(6, 28) as usize;
        let mut tokens = Vec::with_capacity(count);
        while tokens.len() < count {
            let n = (count - tokens.len()) as u64;
            tokens.extend(self.next_tokens(n));
        }
        let mut sentence = String::new();
        for (i, token) in tokens.iter().enumerate() {
            if i == 0 {
                sentence.push_str(&Self::capitalized(token));
            } else {
                sentence.push(' ');
                if self.rng.chance(0.02) {
                    sentence.push('"');
                    sentence.push_str(token);
                    sentence.push('"');
                } else {
                    sentence.push_str(token);
                }
            }
            if i + 1 < count && self.rng.chance(0.07) {
                sentence.push(',');
            }
        }
        let end = match self.rng.range(0, 24) {
            0 => '?',
            1 => ':',
            _ => '.',
        };
        sentence.push(end);
        sentence
    }

    /// A paragraph of 3–7 sentences.
    pub fn paragraph(&mut self) -> String {
        let count = self.rng.range(3, 7);
        (0..count)
            .map(|_| self.sentence())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
