"""Compose ``out_of_scope.csv``: inputs that are not English questions the taxonomy can answer.

Every line here was written for qcapp; the generated kinds (gibberish, keyboard mashing, word
salad, arithmetic) are drawn from the word lists below with a fixed seed, so running
``python -m training.data.compose_out_of_scope`` again writes the same file.
"""

from __future__ import annotations

import csv
import random

from training.data import OUT_OF_SCOPE_PATH

OUTPUT = OUT_OF_SCOPE_PATH
SEED = 19

# Questions and sentences in other languages written with the Latin alphabet.
LATIN_SCRIPT = {
    "spanish": [
        "¿Quién pintó la Mona Lisa?", "¿Cuál es la capital de Francia?",
        "¿Dónde está la estación de tren?", "¿Cuántos años tiene tu hermano?",
        "¿Qué hora es?", "¿Por qué el cielo es azul?", "¿Cómo se llama tu perro?",
        "Quién escribió Don Quijote", "cual es el rio mas largo del mundo",
        "¿Cuándo empezó la guerra civil española?", "Me gustaría reservar una mesa para dos",
        "¿Dónde puedo comprar entradas para el concierto?", "¿Qué significa esta palabra?",
        "¿Cuánto cuesta un billete a Madrid?", "Hola, ¿cómo estás?",
        "¿En qué año llegó el hombre a la luna?", "necesito ayuda con mi tarea de historia",
        "¿Quién ganó el mundial de fútbol en 2010?", "¿Cuál es el animal más rápido?",
        "¿Qué idioma se habla en Brasil?",
    ],
    "french": [
        "Qui a peint la Joconde ?", "Quelle est la capitale de l'Australie ?",
        "Où se trouve la tour Eiffel ?", "Combien de jours y a-t-il dans une année ?",
        "Pourquoi la mer est-elle salée ?", "Comment vas-tu aujourd'hui ?",
        "Quand a eu lieu la Révolution française ?", "Qu'est-ce que la photosynthèse ?",
        "je voudrais un café s'il vous plaît", "Quel est le plus grand pays d'Afrique ?",
        "Qui a écrit Les Misérables ?", "Est-ce que tu parles anglais ?",
        "Où est la gare la plus proche ?", "Combien coûte ce livre ?",
        "quelle heure est-il", "Qui est le président de la République ?",
        "Comment dit-on merci en allemand ?", "Quelle est la hauteur du mont Blanc ?",
        "Il fait très beau ce matin", "Pourquoi les chats ronronnent-ils ?",
    ],
    "german": [
        "Wer hat die Glühbirne erfunden?", "Wie spät ist es?", "Wo ist der Bahnhof?",
        "Was ist die Hauptstadt von Österreich?", "Wie viele Einwohner hat Berlin?",
        "Warum ist die Banane krumm?", "Wann wurde die Mauer gebaut?",
        "Wer schrieb Faust?", "Ich habe heute keine Zeit", "Welcher Fluss fließt durch Köln?",
        "Wie heißt du?", "Kannst du mir bitte helfen?", "Was kostet eine Fahrkarte nach Hamburg?",
        "Wie hoch ist die Zugspitze?", "wo kann man hier gut essen",
        "Welche Farbe hat der Himmel?", "Wer war der erste Bundeskanzler?",
        "Wie lange dauert die Fahrt?", "Gibt es hier in der Nähe eine Apotheke?",
        "Was bedeutet dieses Wort?",
    ],
    "italian": [
        "Chi ha dipinto la Cappella Sistina?", "Qual è la capitale della Spagna?",
        "Dove si trova il Colosseo?", "Quanti anni hai?", "Perché il cielo è blu?",
        "Come ti chiami?", "Quando è nato Leonardo da Vinci?", "Che ore sono?",
        "Vorrei un bicchiere d'acqua", "Qual è il monte più alto d'Italia?",
        "Chi ha scritto la Divina Commedia?", "Quanto costa questo vestito?",
        "Dov'è il bagno per favore?", "buongiorno a tutti", "Che cosa significa questa parola?",
    ],
    "portuguese": [
        "Quem descobriu o Brasil?", "Qual é a capital de Portugal?", "Onde fica o aeroporto?",
        "Quantos estados tem o Brasil?", "Por que o mar é azul?", "Como você se chama?",
        "Quando foi a independência do Brasil?", "Que horas são?", "Eu gosto muito de música",
        "Qual é o maior rio do mundo?", "Quem escreveu Os Lusíadas?", "Quanto custa isso?",
        "obrigado pela ajuda", "Você fala inglês?", "O que significa saudade?",
    ],
    "dutch": [
        "Wie heeft de Nachtwacht geschilderd?", "Wat is de hoofdstad van Nederland?",
        "Waar is het station?", "Hoeveel kost dit?", "Waarom is de lucht blauw?",
        "Hoe laat is het?", "Ik woon in Utrecht", "Wanneer begint de film?",
        "Welke taal spreken ze in België?", "Hoe gaat het met je?",
    ],
    "swedish_norwegian_danish": [
        "Vem uppfann dynamiten?", "Vad är klockan?", "Var ligger Stockholm?",
        "Hur mycket kostar det?", "Jeg elsker deg", "Hvor er toalettet?",
        "Hvad hedder du?", "Hvor mange mennesker bor i Danmark?", "Tack så mycket",
        "Hvem skrev Peer Gynt?",
    ],
    "polish_czech": [
        "Kto napisał Pana Tadeusza?", "Gdzie jest dworzec?", "Ile to kosztuje?",
        "Jaka jest stolica Polski?", "Dzień dobry, jak się masz?", "Która jest godzina?",
        "Kde je nádraží?", "Kolik to stojí?", "Jak se máš?", "Kdo vynalezl kontaktní čočky?",
    ],
    "turkish": [
        "Türkiye'nin başkenti neresidir?", "Saat kaç?", "Nasılsın?", "Bu ne kadar?",
        "İstanbul'u kim fethetti?", "Tuvalet nerede?", "Adın ne?", "Çok teşekkür ederim",
        "En uzun nehir hangisidir?", "Yarın hava nasıl olacak?",
    ],
    "indonesian_malay": [
        "Siapa presiden pertama Indonesia?", "Di mana stasiun kereta?", "Berapa harganya?",
        "Apa ibu kota Malaysia?", "Apa kabar?", "Jam berapa sekarang?",
        "Saya mau makan nasi goreng", "Kenapa langit berwarna biru?",
        "Terima kasih banyak", "Bagaimana cara ke bandara?",
    ],
    "other_latin": [
        "Kuka keksi saunan?", "Mikä on Suomen pääkaupunki?", "Hol van a vasútállomás?",
        "Mennyibe kerül?", "Cine a scris Luceafărul?", "Unde este gara?",
        "Ni nani rais wa Kenya?", "Habari yako?", "Kiel vi fartas?",
        "Kie estas la stacidomo?", "Quis custodiet ipsos custodes?", "Veni, vidi, vici",
        "Ko je napisao Na Drini ćuprija?", "Kas yra Lietuvos sostinė?", "Cá bhfuil an leithreas?",
        "Bawo ni o?", "Sino ang unang pangulo ng Pilipinas?", "Magkano ito?",
        "Tôi không hiểu", "Ai là người phát minh ra điện thoại?",
    ],
}

# Sentences in scripts other than the Latin alphabet.
OTHER_SCRIPTS = {
    "arabic": [
        "من رسم الموناليزا؟", "ما هي عاصمة مصر؟", "أين المحطة؟", "كم الساعة الآن؟",
        "كيف حالك؟", "لماذا السماء زرقاء؟", "متى بدأت الحرب العالمية الأولى؟",
        "شكرا جزيلا", "ما اسمك؟", "أريد كوبا من القهوة", "من كتب ألف ليلة وليلة؟",
        "كم عدد سكان العالم؟",
    ],
    "chinese": [
        "谁画了蒙娜丽莎？", "中国的首都是哪里？", "火车站在哪里？", "现在几点了？",
        "你好吗？", "为什么天空是蓝色的？", "长城有多长？", "谢谢你的帮助",
        "这个多少钱？", "我想喝一杯茶", "谁发明了造纸术？", "世界上最高的山是什么？",
    ],
    "japanese": [
        "モナリザを描いたのは誰ですか？", "日本の首都はどこですか？", "駅はどこですか？",
        "今何時ですか？", "お元気ですか？", "空はなぜ青いのですか？", "ありがとうございます",
        "これはいくらですか？", "富士山の高さは？", "すしが好きです", "トイレはどこですか",
        "東京タワーはいつ建てられましたか？",
    ],
    "korean": [
        "모나리자를 누가 그렸나요?", "한국의 수도는 어디인가요?", "역이 어디에 있어요?",
        "지금 몇 시예요?", "잘 지내요?", "하늘은 왜 파란가요?", "감사합니다",
        "이거 얼마예요?", "한글은 누가 만들었나요?", "김치를 좋아해요",
    ],
    "russian_cyrillic": [
        "Кто написал «Войну и мир»?", "Какая столица России?", "Где находится вокзал?",
        "Который час?", "Как дела?", "Почему небо голубое?", "Когда началась война?",
        "Спасибо большое", "Сколько это стоит?", "Как тебя зовут?", "Хто написав Кобзар?",
        "Колко струва това?",
    ],
    "greek": [
        "Ποιος έγραψε την Οδύσσεια;", "Ποια είναι η πρωτεύουσα της Ελλάδας;", "Τι ώρα είναι;",
        "Πώς είσαι;", "Ευχαριστώ πολύ", "Πού είναι ο σταθμός;", "Πόσο κοστίζει;",
        "Γιατί ο ουρανός είναι μπλε;",
    ],
    "hebrew": [
        "מי צייר את המונה ליזה?", "מה השעה?", "איפה התחנה?", "מה שלומך?", "תודה רבה",
        "כמה זה עולה?", "מה בירת ישראל?", "למה השמיים כחולים?",
    ],
    "indic": [
        "मोना लिसा किसने बनाई?", "भारत की राजधानी क्या है?", "स्टेशन कहाँ है?",
        "अभी क्या समय हुआ है?", "आप कैसे हैं?", "बहुत धन्यवाद", "इसकी कीमत क्या है?",
        "আপনি কেমন আছেন?", "বাংলাদেশের রাজধানী কী?", "நீங்கள் எப்படி இருக்கிறீர்கள்?",
        "ਤੁਹਾਡਾ ਨਾਮ ਕੀ ਹੈ?", "మీరు ఎలా ఉన్నారు?",
    ],
    "other_scripts": [
        "ใครวาดภาพโมนาลิซา", "สวัสดีครับ", "กี่โมงแล้ว", "Ո՞վ է գրել այս գիրքը",
        "როგორ ხარ?", "ሰላም ነው?", "ኢትዮጵያ ዋና ከተማ ምንድን ነው?", "តើអ្នកសុខសប្បាយទេ?",
        "ما هو اسمك يا صديقي", "سلام، حال شما چطور است؟", "پایتخت ایران کجاست؟",
        "آپ کا نام کیا ہے؟",
    ],
}

# Emoji and symbols with no words at all.
SYMBOLS = [
    "😀😀😀", "🔥🔥", "👍", "❤️❤️❤️", "🤔?", "😂😂😂😂", "🎉🎊🥳", "🙈🙉🙊", "🍕🍔🍟?",
    "⚽️🏀🏈", "🌍🌎🌏", "☀️🌧️⛈️", "🐶🐱🐭🐹", "💯", "🚀🚀🚀🚀🚀", "✨", "😭😭", "🤷",
    "👀", "🙏🙏", "???", "!!!", "...", "?!?!", "¿?", "#$%&", "***", "---", "___", "~~~~",
    "@@@", "^^", "<><><>", "[]{}()", "////", "\\\\", "|||", ";;;;", "::", "==",
    "→ ← ↑ ↓", "★★★★☆", "♠♣♥♦", "✓ ✗", "©®™", "§¶†‡", "°C", "€$£¥", "∑∫√∞", "≠≈≤≥",
    "☺", "♪♫", "⌘⌥⇧", "▲▼◀▶", "•••", "¯\\_(ツ)_/¯", "(╯°□°)╯︵ ┻━┻", ":-)", ";)", ":D", "<3",
    "xD", "o_O", "^_^", "T_T", "0", "42", "123456", "3.14159", "1,000,000", "2024-05-01",
    "+44 20 7946 0958", "555-0199", "#1", "100%", "$$$", "99.9", "007", "1/2", "12:30",
    "(1)", "[2]", "{3}", "N/A", "?", ".", "-", "'", "\"\"",
]

CODE = [
    "print('hello world')", "def f(x): return x * 2", "for i in range(10): print(i)",
    "import numpy as np", "x = [i**2 for i in range(5)]", "if (a > b) { return a; }",
    "console.log(\"hi\");", "const sum = (a, b) => a + b;", "let items = [];",
    "document.getElementById('app').innerHTML = '';", "SELECT * FROM users WHERE id = 1;",
    "DROP TABLE students;--", "INSERT INTO t (a, b) VALUES (1, 2);",
    "UPDATE accounts SET balance = 0;", "<script>alert(1)</script>", "<div class=\"row\"></div>",
    "<img src=x onerror=alert(1)>", "<html><body>hi</body></html>", "sudo rm -rf /",
    "ls -la | grep txt", "git commit -m 'fix'", "docker run -it ubuntu bash",
    "pip install requests", "npm install --save react", "cd ..", "chmod 755 script.sh",
    "#include <stdio.h>", "int main() { return 0; }", "public static void main(String[] args)",
    "System.out.println(x);", "fn main() { println!(\"hi\"); }", "package main",
    "func add(a int, b int) int { return a + b }", "while True: pass", "try: x() except: pass",
    "lambda x: x + 1", "{\"name\": \"qc\", \"id\": 7}", "[1, 2, 3]", "null", "undefined",
    "NaN", "true && false", "x += 1", "i++", "a = b == c", "#!/bin/bash", "echo $HOME",
    "$ curl -X POST localhost", "body { margin: 0; }", ".btn:hover { color: red; }",
    "@media (max-width: 600px) {}", "SELECT name FROM city ORDER BY population DESC LIMIT 5",
    "=SUM(A1:A10)", "=VLOOKUP(B2,C:D,2,FALSE)", "{{ user.name }}", "{% for x in y %}",
    "<?php echo $x; ?>", "SyntaxError: unexpected EOF while parsing",
    "Traceback (most recent call last):", "TypeError: undefined is not a function",
    "NullPointerException at line 42", "segmentation fault (core dumped)",
    "404 Not Found", "HTTP/1.1 500 Internal Server Error", "0x7fff5fbff8ac",
    "\\x00\\x01\\x02", "base64: aGVsbG8gd29ybGQ=", "d41d8cd98f00b204e9800998ecf8427e",
]

WEB = [
    "https://www.example.com", "http://localhost:5000/api/v1/classify",
    "www.google.com", "https://example.org/path?query=1&b=2", "ftp://files.example.net/a.zip",
    "example.com", "mailto:someone@example.com", "someone@example.com",
    "info@qcapp.invalid", "https://t.co/abc123", "bit.ly/3xYz", "@username", "#hashtag",
    "#throwback #tbt", "@alice @bob", "https://youtu.be/dQw4w9", "192.168.0.1",
    "::1", "C:\\Users\\me\\Desktop", "/usr/local/bin/python3", "~/Documents/notes.txt",
    "report_final_v2.docx", "IMG_2041.JPG", "data.csv", "index.html",
]

# Word lists for the generated kinds.
ENGLISH_WORDS = (
    "apple window quickly seven blue table river sing under happy cloud paper orange "
    "slowly green forty dance lamp ocean thirty purple jump carpet mountain bright seventeen "
    "kettle whisper yellow garden silver pencil rocket gently banana tiger soft morning "
    "sugar violin honest ladder thunder cotton rabbit eleven spoon candle forest marble "
    "tomorrow chair drift velvet basket noisy planet crumble feather engine lemon "
    "hollow tractor quiet button saddle orbit pepper blanket swiftly copper meadow"
).split()
CONSONANTS = "bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ"
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "azertyuiop", "qwertzuiop")
OPERATORS = ("+", "-", "*", "/", "^", "x", "×", "÷")


def _gibberish(rng: random.Random) -> str:
    """Pronounceable-or-not nonsense words with consonant clusters."""
    words = []
    for _ in range(rng.randint(1, 5)):
        length = rng.randint(3, 11)
        letters = [
            rng.choice(CONSONANTS if rng.random() < 0.8 else "aeiouy") for _ in range(length)
        ]
        words.append("".join(letters).lower() if rng.random() < 0.8 else "".join(letters))
    return " ".join(words) + rng.choice(["", "", "?", "!", "."])


def _keyboard_mash(rng: random.Random) -> str:
    """A run along one or two keyboard rows, as someone testing the box types."""
    row = rng.choice(KEYBOARD_ROWS)
    start = rng.randrange(len(row) - 3)
    run = row[start : start + rng.randint(4, len(row) - start)]
    if rng.random() < 0.5:
        other = rng.choice(KEYBOARD_ROWS)
        run += other[: rng.randint(3, len(other))]
    if rng.random() < 0.3:
        run = run * rng.randint(2, 3)
    if rng.random() < 0.2:
        run = run.upper()
    return run + rng.choice(["", "", "?", "!!", ";"])


def _word_salad(rng: random.Random) -> str:
    """English words in no grammatical order."""
    words = rng.sample(ENGLISH_WORDS, rng.randint(3, 8))
    text = " ".join(words)
    return (text.capitalize() if rng.random() < 0.5 else text) + rng.choice(["", "", "?", "."])


def _arithmetic(rng: random.Random) -> str:
    """A sum, with or without a question around it."""
    a, b = rng.randint(0, 999), rng.randint(1, 99)
    expression = f"{a} {rng.choice(OPERATORS)} {b}"
    if rng.random() < 0.5:
        expression = expression.replace(" ", "")
    frame = rng.choice(
        ["{}", "{} =", "{}=?", "What is {}?", "what's {}", "What is {} equal to?",
         "calculate {}", "Solve {}", "{} = ?", "How much is {}?"]
    )
    return frame.format(expression)


GENERATED = {
    "gibberish": (_gibberish, 70),
    "keyboard_mash": (_keyboard_mash, 45),
    "word_salad": (_word_salad, 60),
    "arithmetic": (_arithmetic, 45),
}


def compose() -> list[tuple[str, str]]:
    """Every (kind, text) pair of the set, without duplicates, in a stable order."""
    rng = random.Random(SEED)
    rows: list[tuple[str, str]] = []
    for language, texts in {**LATIN_SCRIPT, **OTHER_SCRIPTS}.items():
        rows += [(f"language:{language}", text) for text in texts]
    rows += [("symbols", text) for text in SYMBOLS]
    rows += [("code", text) for text in CODE]
    rows += [("web", text) for text in WEB]
    for kind, (generate, count) in GENERATED.items():
        made: set[str] = set()
        while len(made) < count:
            made.add(generate(rng))
        rows += [(kind, text) for text in sorted(made)]
    seen: set[str] = set()
    unique = []
    for kind, text in rows:
        if text not in seen:
            seen.add(text)
            unique.append((kind, text))
    return unique


def main() -> None:
    """Write the CSV next to the starter dataset."""
    rows = compose()
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "text"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUTPUT}")


if __name__ == "__main__":
    main()
