"""What people ask for in their own words, and what Isadei makes of it: occasions, moods,
scenes, genres it does not play and artists map to a style, mode, tempo and instrument
that fit, with the reason in a short note ("no rock yet — here is a lively march in E minor").

Aliases are matched on lowercased text ("ё" as "е") through composer.instruments.alias_pattern:
"~" = any Russian case ending, "*" = any ending. Reasons are msgids (composer/locales).
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.i18n import N_

# Weights decide between several style words in one request: a named style beats a wish
# or a genre we map, which beats a hint ("a folk waltz" is a waltz, "a waltz to dance to" too);
# a hint beats the plain words for a song or a tune ("a melody from Scotland" is Scottish).
NAMED, FOLK_WORD, MAPPED, HINT, PLAIN_WORD = 3, 2, 2, 1, 0


@dataclass(frozen=True)
class Wish:
    reason: str  # msgid: "for a birthday", "no rock yet"
    aliases: tuple[str, ...]
    style: str
    mode: str | None = None
    tempo: float | None = None  # where in the style's tempo range: 0 slowest, 1 fastest
    instrument: str | None = None  # General MIDI name
    key: str | None = None


W = Wish
# Occasions, scenes and moods.
OCCASIONS: list[Wish] = [
    W(N_("for a birthday"), ("birthday", "bday", "b-day", "anniversary", "день рождени~",
                             "днем рождени~", "днюх~", "именин~", "юбиле*"),
      "folk", "major", 0.75, "glockenspiel"),
    W(N_("for a wedding"), ("wedding", "bride", "marriage", "свадьб~", "свадеб~", "свадебн~",
                            "невест~", "венчани~"), "waltz", "major", 0.5, "violin"),
    W(N_("for Christmas"), ("christmas", "xmas", "carol*", "рождеств*", "колядк~", "святки"),
      "chorale", "major", 0.5, "church organ"),
    W(N_("for the New Year"), ("new year", "new year's", "нов~ год~", "новогодн~", "елк~",
                               "елочк~"), "waltz", "major", 0.6, "celesta"),
    W(N_("for meditation"), ("meditat*", "yoga", "relax*", "mindful*", "spa", "zen",
                             "медитац*", "медитир*", "йог~", "релакс*", "расслаб*", "дзен"),
      "air", "major", 0.1, "pan flute"),
    W(N_("for studying"), ("study", "studying", "homework", "focus*", "concentrat*", "reading",
                           "while working", "for work", "exam*", "учеб~", "учиться", "уроки",
                           "уроков", "сосредоточ*", "концентрац*", "чтени~", "для работы"),
      "air", "major", 0.4, "acoustic grand piano"),
    W(N_("for sleep"), ("sleep*", "bedtime", "asleep", "insomnia", "спать", "сон", "сна",
                        "усн*", "засн*", "бессонниц*", "на ночь"),
      "lullaby", "major", 0.2, "music box"),
    W(N_("for a battle"), ("battle*", "epic", "war", "warrior*", "fight*", "heroic", "army",
                           "битв~", "сражени~", "бой", "боя", "боев~", "войн~", "эпичн~",
                           "эпик", "героич*", "воин*"), "march", "minor", 0.85, "brass section"),
    W(N_("for the sea"), ("sea", "ocean*", "waves", "sailing", "beach", "море", "моря", "морю",
                          "морем", "океан~", "волн~", "пляж~"), "hornpipe", "major", 0.5,
      "whistle"),
    W(N_("for a rainy day"), ("rain*", "autumn", "дожд*", "осен*", "ливен*", "ливн~"),
      "air", "minor", 0.3, "acoustic grand piano"),
    W(N_("for romance"), ("romantic", "valentine*", "date night", "my wife", "my husband",
                          "my girlfriend", "my boyfriend", "my love", "любим~", "романтич*",
                          "романтик~", "свидани~", "жене", "мужу", "девушк~", "валентин*"),
      "ballad", "major", 0.35, "acoustic grand piano"),
    W(N_("for a broken heart"), ("breakup", "break up", "heartbreak*", "broken heart",
                                 "miss you", "расставани~", "разбит~ сердц~", "скучаю",
                                 "разлук~", "одиночеств~"), "ballad", "minor", 0.2,
      "acoustic grand piano"),
    W(N_("for a funeral"), ("funeral", "memorial", "in memory", "mourning", "похорон*",
                            "поминк~", "памяти", "прощани~", "траурн~"), "chorale", "minor", 0.1,
      "church organ"),
    W(N_("for a party"), ("party", "celebrat*", "вечеринк~", "тусовк~", "праздник~",
                          "корпоратив~"), "reel", "major", 0.8, "accordion"),
    W(N_("for a workout"), ("workout", "gym", "running", "jogging", "exercise", "fitness",
                            "cardio", "тренировк~", "спортзал~", "пробежк~", "зарядк~",
                            "фитнес~", "качалк~"), "reel", "major", 1.0, "violin"),
    W(N_("for a victory"), ("victory", "triumph*", "champion*", "graduation", "побед~", "победн~",
                            "триумф*", "чемпион*", "выпускн~"), "march", "major", 0.8,
      "trumpet"),
    W(N_("for a child"), ("kids", "children", "child", "toddler", "my daughter", "my son",
                          "детск~", "дети", "детей", "детям", "ребен~", "ребят~", "дочк~",
                          "дочер~", "дочь", "сын~",
                          "сынишк~"), "folk", "major", 0.6, "xylophone"),
    W(N_("for a grandparent"), ("grandma", "grandmother", "granny", "grandpa", "grandfather",
                                "бабушк~", "бабул~", "дедушк~", "дедул~"), "waltz", "major",
      0.4, "accordion"),
    W(N_("for a mother"), ("mom", "mum", "mommy", "mother", "маме", "мамы", "маму", "мамочк~",
                           "мамул~"), "ballad", "major", 0.35, "acoustic grand piano"),
    W(N_("for the morning"), ("morning", "sunrise", "wake up", "coffee", "breakfast", "утр~",
                              "утрен*", "рассвет~", "кофе", "завтрак~"), "folk", "major", 0.5,
      "acoustic guitar (nylon)"),
    W(N_("for spring and summer"), ("spring", "summer", "sunshine", "весн~", "весенн~", "лето",
                                    "летн~", "летом"), "folk", "major", 0.6, "flute"),
    W(N_("for winter"), ("winter", "snow*", "зим~", "зимн~", "снег~", "снеж*"),
      "waltz", "major", 0.4, "celesta"),
    W(N_("for a café in Paris"), ("paris", "french", "cafe", "café", "restaurant", "dinner",
                                  "париж~", "француз*", "кафе", "ресторан~", "ужин~"),
      "waltz", "major", 0.5, "accordion"),
    W(N_("for a journey"), ("travel*", "trip", "road", "journey", "adventure*", "hiking",
                            "путешеств*", "дорог~", "поход~", "приключени~"), "jig",
      "mixolydian", 0.7, "whistle"),
    W(N_("for the night sky"), ("space", "cosmos", "stars", "starry", "galaxy", "dream*",
                                "космос~", "космическ~", "звезд~", "звездн~", "мечт*"),
      "air", "major", 0.2, "vibraphone"),
    W(N_("for something spooky"), ("scary", "spooky", "creepy", "horror", "halloween",
                                   "haunted", "ghost*", "страшн~", "жутк~", "ужас~", "хэллоуин~",
                                   "хеллоуин~", "призрак~"), "waltz", "minor", 0.3, "music box"),
    W(N_("for a mystery"), ("detective", "mystery", "mysterious", "noir", "spy", "детектив~",
                            "загадочн~", "таинствен~", "шпион~", "мистич*"), "air", "minor", 0.4,
      "clarinet"),
    W(N_("for knights and castles"), ("medieval", "knight*", "castle*", "tavern*", "fantasy",
                                      "elves", "elvish", "dragon*", "средневеков*", "рыцар*",
                                      "замк~", "таверн~", "фэнтези", "эльф*", "дракон~"),
      "jig", "dorian", 0.6, "recorder"),
    W(N_("for the Wild West"), ("western", "cowboy*", "wild west", "вестерн~", "ковбо*",
                                "дик~ запад~"), "folk", "mixolydian", 0.6, "harmonica"),
    W(N_("for forests and mountains"), ("forest*", "woods", "nature", "mountain*", "meadow*",
                                        "лес~", "лесн~", "природ~", "горы", "горах", "луг~"),
      "air", "dorian", 0.4, "flute"),
    W(N_("for a pub"), ("pub", "beer", "drinking", "паб~", "пив~", "застольн~"), "jig",
      "major", 0.8, "violin"),
    W(N_("for a film"), ("film", "movie", "trailer", "soundtrack", "фильм~", "трейлер~",
                         "саундтрек~"), "march", "minor", 0.7, "string ensemble 1"),
    W(N_("for an angry mood"), ("angry", "anger", "rage", "furious", "злост~", "ярост~",
                                "гнев~", "злой", "злая", "злую"), "march", "minor", 0.88),
    W(N_("for a fairy tale"), ("fairy", "fairytale", "magic*", "enchant*", "сказк~",
                               "сказочн~", "волшебн~", "магическ~"), "waltz", "major", 0.4,
      "celesta"),
    W(N_("for calm"), ("calm music", "something calm", "peaceful music", "спокойн~ музык~",
                       "что-нибудь спокойн~", "что-то спокойн~"), "air", "major", 0.25,
      "orchestral harp"),
]

# Genres Isadei does not play (yet), and the closest it does.
GENRES: list[Wish] = [
    W(N_("no rock yet"), ("rock", "rock'n'roll", "rock and roll", "рок", "рока", "року",
                          "роком", "рок-н-ролл~"), "march", "minor", 0.85, None, "E"),
    W(N_("no metal yet"), ("metal", "heavy metal", "метал~", "металл~"), "march", "minor", 0.9,
      "brass section", "E"),
    W(N_("no punk yet"), ("punk", "панк~"), "reel", None, 1.0),
    W(N_("no pop yet"), ("pop", "pop song", "k-pop", "j-pop", "попс~", "поп", "поп-музык~"),
      "folk", "major", 0.6, "acoustic grand piano"),
    W(N_("no jazz yet"), ("jazz", "swing", "джаз~", "джазов~", "свинг~"), "hornpipe", None, None,
      "alto sax"),
    W(N_("no blues yet"), ("blues", "блюз~", "блюзов~"), "ballad", "minor", 0.3, "harmonica",
      "A"),
    W(N_("no soul yet"), ("soul music", "r&b", "rnb", "соул", "ритм-н-блюз~"), "ballad", None,
      None, "electric piano 1"),
    W(N_("no funk yet"), ("funk", "funky", "фанк~"), "hornpipe", None, 0.8),
    W(N_("no electronic music yet"),
      ("techno", "edm", "house music", "trance", "dubstep", "drum and bass", "electronic",
       "electro", "техно", "хаус~", "транс", "дабстеп~", "электронн~ музык~", "электроник~"),
      "reel", None, 0.9, "electric piano 1"),
    W(N_("no disco yet"), ("disco", "диско"), "reel", "major", 0.7),
    W(N_("no hip-hop yet"), ("hip-hop", "hip hop", "hiphop", "rap", "хип-хоп~", "рэп~", "реп"),
      "march", None, 0.65),
    W(N_("no reggae yet"), ("reggae", "регги"), "folk", "major", 0.3),
    W(N_("no country yet"), ("country", "кантри"), "folk", "major", 0.6, "banjo"),
    W(N_("no bluegrass yet"), ("bluegrass", "блюграсс~"), "reel", None, 0.9, "banjo"),
    W(N_("no classical music yet"), ("classical music", "baroque", "классик~",
                                     "классическ~ музык~", "барокко"), "chorale", None, None,
      "harpsichord"),
    W(N_("no opera yet"), ("opera", "aria", "опер~", "ари~"), "ballad", None, None, "choir aahs"),
    W(N_("no gospel yet"), ("gospel", "госпел~", "спиричуэлс"), "chorale", None, None,
      "choir aahs"),
    W(N_("no tango yet"), ("tango", "танго"), "march", "minor", 0.6, "accordion"),
    W(N_("no polka yet"), ("polka", "польк~"), "march", None, None, "accordion"),
    W(N_("no mazurka yet"), ("mazurka", "мазурк~"), "waltz"),
    W(N_("no minuet yet"), ("minuet", "менуэт~"), "waltz", None, 0.3, "harpsichord"),
    W(N_("no Latin music yet"), ("latin", "salsa", "samba", "bossa nova", "cumbia", "сальс~",
                                 "самб~", "босса-нов~", "латин~"), "reel", None, None,
      "marimba"),
    W(N_("no flamenco yet"), ("flamenco", "фламенко"), "air", "minor", None,
      "acoustic guitar (nylon)"),
    W(N_("no ambient yet"), ("ambient", "lo-fi", "lofi", "chillout", "эмбиент~", "лоуфай"),
      "air", None, 0.2, "electric piano 1"),
    W(N_("no chiptune yet"), ("chiptune", "8-bit", "video game", "восьмибитн~"), "reel"),
    W(N_("no Japanese music yet"), ("japanese", "japan", "anime", "японск~", "аниме"),
      "chinese-folk", None, None, "koto"),
    W(N_("no Korean music yet"), ("korean", "корейск~"), "chinese-folk"),
    W(N_("no chanson yet"), ("chanson", "шансон~", "бардовск~", "авторск~ песн~"), "ballad",
      None, None, "acoustic guitar (nylon)"),
    W(N_("no sea shanties yet"), ("sea shanty", "shanty", "shanties", "шанти", "морск~ песн~",
                                  "пиратск~ песн~"), "hornpipe"),
]

# Artists: their spirit, in a style Isadei plays.
ARTISTS: list[Wish] = [
    W(N_("in the spirit of the Beatles"), ("beatles", "битлз", "битлов", "битлы"), "folk",
      "major", 0.6, "acoustic guitar (steel)"),
    W(N_("in the spirit of Queen"), ("queen", "квин"), "march", "major", 0.75,
      "acoustic grand piano"),
    W(N_("in the spirit of Metallica"), ("metallica", "металлик~"), "march", "minor", 0.88,
      "brass section", "E"),
    W(N_("in the spirit of ABBA"), ("abba", "абба", "аббы"), "folk", "major", 0.7,
      "acoustic grand piano"),
    W(N_("in the spirit of Elvis"), ("elvis", "элвис~"), "folk", "major", 0.7,
      "acoustic guitar (steel)"),
    W(N_("in the spirit of Coldplay"), ("coldplay", "колдплей"), "ballad", "major", 0.4,
      "acoustic grand piano"),
    W(N_("in the spirit of Mozart"), ("mozart", "моцарт~"), "waltz", "major", 0.6,
      "harpsichord"),
    W(N_("in the spirit of Bach"), ("bach", "бах~"), "chorale", None, None, "church organ"),
    W(N_("in the spirit of Beethoven"), ("beethoven", "бетховен~"), "air", "minor", 0.2,
      "acoustic grand piano"),
    W(N_("in the spirit of Chopin"), ("chopin", "шопен~"), "waltz", "minor", 0.4,
      "acoustic grand piano"),
    W(N_("in the spirit of Tchaikovsky"), ("tchaikovsky", "чайковск~"), "waltz", "major", 0.6,
      "string ensemble 1"),
    W(N_("in the spirit of Strauss"), ("strauss", "штраус~"), "waltz", "major", 0.8,
      "string ensemble 1"),
    W(N_("in the spirit of Vivaldi"), ("vivaldi", "вивальди"), "reel", "major", 0.8,
      "string ensemble 1"),
    W(N_("in the spirit of Hans Zimmer"), ("zimmer", "циммер~"), "march", "minor", 0.7,
      "string ensemble 1"),
    W(N_("in the spirit of Einaudi"), ("einaudi", "эйнауди"), "air", "major", 0.3,
      "acoustic grand piano"),
    W(N_("in the spirit of Morricone"), ("morricone", "морриконе"), "folk", "minor", 0.4,
      "harmonica"),
    W(N_("in the spirit of Enya"), ("enya", "эния", "энии"), "air", "major", 0.2,
      "orchestral harp"),
    W(N_("in the spirit of Taylor Swift"), ("taylor swift", "тейлор свифт"), "folk", "major",
      0.6, "acoustic guitar (steel)"),
    W(N_("in the spirit of Kino"), ("цой", "цоя", "группа кино", "группы кино"), "ballad",
      "minor", 0.5, "acoustic guitar (steel)"),
    W(N_("in the spirit of Vysotsky"), ("высоцк~",), "ballad", "minor", 0.6,
      "acoustic guitar (nylon)"),
]

# The first one named decides: a genre or an artist is the most specific thing people say.
WISHES: list[Wish] = [*GENRES, *ARTISTS, *OCCASIONS]

# Words that hint at a style without naming it.
HINTS: list[tuple[str, tuple[str, ...]]] = [
    ("reel", ("dance", "dancing", "dance to", "танц*", "танец", "потанц*", "пляс*")),
    ("lullaby", ("good night", "goodnight", "спокойной ночи", "baby", "малыш*", "младен*",
                 "усып*")),
    ("jig", ("irish", "ireland", "ирландск~", "ирланди~", "celtic", "кельтск~")),
    ("strathspey", ("scottish", "scots", "scotland", "шотландск~", "шотланди~")),
    ("chorale", ("church", "церковн~", "prayer", "молитв~", "choral", "хоров~")),
    ("march", ("military", "воен*", "soldier*", "солдат*", "parade", "парад*")),
    ("hornpipe", ("sailor*", "матрос*", "pirate*", "пират*")),
    ("chinese-folk", ("pentatonic*", "пентатоник*", "oriental", "восточн~", "asian",
                      "азиатск~")),
    ("folk", ("duet", "дуэт~", "song*", "песн*", "песен*", "tune*", "мелоди*", "music",
              "музык*", "melody", "piece*", "пьес~", "произведени~")),
]

# What a dance hint becomes when the words also ask for it slow (a tempo word at this place
# or slower): the slow tunes of Ireland and Scotland are airs, a slow dance is a waltz.
SLOW_TUNE_OF_HINT = {"jig": "air", "strathspey": "air", "reel": "waltz"}
SLOW_PLACE = 0.3

MINOR_WORDS = (
    "minor", "минор~", "минорн~", "sad", "sadder", "saddest", "sadly", "melanchol*", "gloomy",
    "dark", "darker", "mournful", "sorrow*", "lonely", "tragic", "moody", "wistful", "nostalgic",
    "грустн~", "грусть", "печальн~", "печаль", "тоскл*", "тоск~", "меланхол*", "мрачн~",
    "трагич*", "скорбн~", "ностальг*", "тревожн~",
)
MAJOR_WORDS = (
    "major", "мажор~", "мажорн~", "happy", "happier", "cheerful", "joyful", "joyous", "merry",
    "bright", "upbeat", "sunny", "fun", "funny", "playful", "uplifting", "jolly", "festive",
    "весел~", "веселеньк~", "веселее", "радостн~", "радост~", "бодр~", "светл~", "позитивн~",
    "жизнерадостн~", "солнечн~", "задорн~", "игрив~", "праздничн~",
)
# Mode words proper: they outrank mood words ("a happy song in minor" is in minor).
MODE_NAMES: list[tuple[str, tuple[str, ...]]] = [
    ("minor", ("minor", "минор~", "минорн~")),
    ("major", ("major", "мажор~", "мажорн~")),
    ("dorian", ("dorian", "дорийск~", "дорийском ладу")),
    ("mixolydian", ("mixolydian", "миксолидийск~")),
]

# Tempo words: where in the style's tempo range they land (0 = slowest, 1 = fastest).
TEMPO_WORDS: list[tuple[float | None, tuple[str, ...]]] = [
    (1.0, ("very fast", "super fast", "really fast", "as fast as", "presto", "очень быстр~",
           "очень быстро", "как можно быстрее", "бешен~")),
    (0.0, ("very slow", "really slow", "super slow", "largo", "grave", "очень медленн~",
           "совсем медленн~")),
    (0.8, ("fast", "faster", "quick", "quickly", "rapid", "lively", "energetic", "brisk",
           "allegro", "vivace", "быстр~", "быстрее", "побыстрее", "живеньк~", "энергичн~",
           "задорн~", "стремительн~", "резв~", "бодр~")),
    (0.2, ("slow", "slower", "slowly", "adagio", "медленн~", "медленно", "помедленн*",
           "неспешн~", "нетороплив~")),
    (0.3, ("calm", "relaxed", "relaxing", "gentle", "peaceful", "andante", "спокойн~", "нежн~",
           "плавн~", "умиротвор*")),
    (None, ("moderate", "medium", "moderato", "normal tempo", "умеренн~", "средн~ темп~")),
]

# Emoji read as the words they stand for ("🎻 jig" is a jig on the violin, "😢" asks for minor):
# people tap them in chats. Each word is one the tables above (or the instruments') know.
EMOJI_WORDS: dict[str, str] = {
    "🎻": "violin", "🎹": "piano", "🎺": "trumpet", "🎷": "saxophone", "🎸": "guitar",
    "🪕": "banjo", "🪗": "accordion", "🪈": "flute", "🔔": "bells",
    "🎂": "birthday", "🥳": "birthday", "💍": "wedding", "👰": "wedding", "🎄": "christmas",
    "🎅": "christmas", "🧘": "meditation", "📚": "study", "😴": "sleep", "💤": "sleep",
    "⚔": "battle", "🌊": "sea", "🌧": "rain", "☔": "rain", "😍": "romantic", "🥰": "romantic",
    "💕": "romantic", "💔": "broken heart", "🎉": "party", "🎊": "party", "🪩": "party",
    "🏋": "workout", "🏃": "running", "🏆": "victory",
    "😢": "sad", "😭": "sad", "😔": "sad", "😞": "sad", "☹": "sad", "🙁": "sad",
    "😊": "happy", "😀": "happy", "😃": "happy", "😄": "happy", "😁": "happy", "🙂": "happy",
    "☺": "happy", "😆": "happy",
    "💃": "dance", "🕺": "dance", "👶": "baby", "🌙": "good night", "🇮🇪": "irish",
    "☘": "irish", "🇨🇳": "chinese", "⛪": "church", "🙏": "prayer", "🪖": "military",
    "🎖": "military", "⚓": "sailor", "☠": "pirate",
}

# Meters in words ("waltz time", "на три четверти"); numbers ("3/4") are read as they are.
METER_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("3/4", ("waltz time", "three-four", "three four time", "три четверти", "трехдольн~",
             "в размере вальса")),
    ("6/8", ("six-eight", "six eight time", "шесть восьмых")),
    ("9/8", ("nine-eight", "девять восьмых")),
    ("2/4", ("two-four", "march time", "две четверти", "двудольн~")),
    ("4/4", ("four-four", "common time", "четыре четверти", "четырехдольн~")),
    ("2/2", ("cut time", "alla breve", "две вторых")),
    ("12/8", ("twelve-eight", "двенадцать восьмых")),
]

# Cues that the instrument after them accompanies ("with piano accompaniment", "под гитару").
ACCOMPANIMENT_CUES = (
    r"(?:accompanied by|backed by|accompaniment(?: of| on)?|with (?:an? |the )?"
    r"|под|в сопровождении|аккомпанемент\w*|с аккомпанементом)\s+(?:the\s+|an?\s+)?$"
)
# Instruments that naturally play chords: in a duet the other one has the tune.
CHORDAL = ("acoustic grand piano", "harpsichord", "electric piano 1", "acoustic guitar (nylon)",
           "acoustic guitar (steel)", "orchestral harp", "accordion", "church organ",
           "string ensemble 1", "banjo", "koto", "celesta", "marimba", "vibraphone")
