"""Text material for the benchmark corpus: sentence grammars (en, de, zh-Hant) and site templates.

Generated sentences keep documents distinct from one another (random documents share few word
3-grams, as real articles do), so the dedup stage sees realistic candidate rates; the real
paragraphs (raw/ samples, optionally the extraction ground truth) keep the text realistic.
Everything here is written for this benchmark; it is data, not logic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


def _w(s: str) -> list[str]:
    return [x.strip() for x in s.split("|") if x.strip()]


EN = {
    "adj": _w("new|old|regional|local|national|small|large|private|public|young|senior|rural|urban|coastal|"
              "northern|southern|digital|green|independent|former|rising|falling|cautious|ambitious|modest|"
              "controversial|popular|costly|cheap|temporary|permanent|annual|weekly|early|late|quiet|busy|"
              "remote|historic|modern|crowded|empty|fragile|robust|uncertain|familiar|rare|broad|narrow|"
              "municipal|federal|volunteer|seasonal|experimental|official|informal|bold|careful|strict"),
    "noun": _w("council|budget|bridge|tenant|farmer|museum|hospital|station|school|library|harbour|market|"
               "festival|railway|factory|vineyard|bakery|union|court|ministry|mayor|teacher|nurse|pilot|"
               "engineer|student|landlord|shopkeeper|researcher|river|forest|road|tunnel|airport|stadium|"
               "theatre|clinic|office|village|district|cooperative|charity|newspaper|startup|lender|insurer|"
               "courier|ferry|tram|bus|pipeline|reservoir|orchard|warehouse|laboratory|archive|garden|"
               "pension|tariff|subsidy|permit|contract|survey|report|inquiry|petition|strike|merger|loan"),
    "verb": _w("approved|rejected|postponed|announced|questioned|defended|expanded|criticised|reviewed|"
               "unveiled|cancelled|financed|tested|promised|delayed|welcomed|challenged|simplified|doubled|"
               "halved|published|revised|suspended|launched|investigated|negotiated|blocked|renamed|sold|"
               "bought|repaired|closed|opened|moved|audited|praised|ignored|shared|rebuilt|replaced"),
    "adv": _w("quietly|openly|reluctantly|finally|again|briefly|unexpectedly|formally|partly|swiftly|"
              "narrowly|jointly|eventually|repeatedly|publicly"),
    "time": _w("on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|last week|this spring|in March|"
               "in October|after the holidays|before the election|at dawn|overnight|in the afternoon"),
    "place": _w("Ålesund|Córdoba|Kraków|Zürich|Malmö|Nîmes|Logroño|Tromsø|Brno|Leeds|Ghent|Porto|Bergen|"
                "Utrecht|Tallinn|Galway|Lyon|Turin|Aarhus|Bremen|Plzeň|Győr|Cluj|Split|Bilbao|Dundee"),
    "first": _w("Anna|José|Zoë|Mikael|Chloé|Łukasz|Sarah|Mehmet|Inés|Thomas|Priya|François|Yusuf|Małgorzata|"
                "David|Søren|Aoife|Renée|Omar|Björn|Lucía|Nikolaj|Grace|Hélène"),
    "last": _w("Müller|García|O’Brien|Nakamura|Kowalski|Dubois|Andersen|Yılmaz|Rossi|Novák|Fernández|Smith|"
               "Johansson|Brontë|Okafor|Lefèvre|Chen|Schäfer|Ivanova|Moreau|Patel|Nørgaard"),
}

DE = {
    "adj": _w("neue|alte|regionale|kleine|große|private|öffentliche|junge|ländliche|städtische|grüne|"
              "teure|günstige|vorläufige|jährliche|frühere|umstrittene|beliebte|vorsichtige|mutige|"
              "digitale|historische|moderne|leere|volle|seltene|strenge|offizielle|gemeinsame"),
    "noun": _w("Stadtrat|Haushalt|Brücke|Mieterbund|Museum|Klinik|Bahnhof|Schule|Bibliothek|Hafen|Markt|"
               "Verein|Fabrik|Bäckerei|Gewerkschaft|Ministerium|Bürgermeisterin|Lehrerin|Pflegekraft|"
               "Ingenieur|Vermieter|Forscherin|Straße|Tunnel|Flughafen|Stadion|Theater|Gemeinde|Genossenschaft|"
               "Zeitung|Versicherung|Fähre|Straßenbahn|Leitung|Lager|Labor|Archiv|Rente|Zuschuss|Vertrag|"
               "Umfrage|Bericht|Petition|Fusion|Kredit|Genehmigung"),
    "verb": _w("beschloss|verschob|prüfte|kritisierte|verteidigte|erweiterte|finanzierte|testete|begrüßte|"
               "überarbeitete|veröffentlichte|stoppte|verkaufte|kaufte|reparierte|schloss|öffnete|lobte"),
    "time": _w("am Montag|am Dienstag|am Mittwoch|am Donnerstag|am Freitag|in der vergangenen Woche|im März|"
               "im Oktober|nach den Feiertagen|vor der Wahl|über Nacht|am Nachmittag"),
    "place": _w("München|Köln|Lübeck|Görlitz|Würzburg|Düsseldorf|Tübingen|Jena|Kiel|Passau|Zwickau|Fürth"),
}

ZH = {
    "noun": _w("市議會|預算|橋樑|租戶|農民|博物館|醫院|車站|學校|圖書館|港口|市場|節慶|鐵路|工廠|酒莊|麵包店|"
               "工會|法院|部會|市長|教師|護理師|機師|工程師|學生|房東|店家|研究員|河川|森林|道路|隧道|機場|"
               "體育館|劇院|診所|村莊|社區|合作社|慈善團體|報社|新創公司|銀行|保險公司|渡輪|電車|公車|"
               "管線|水庫|果園|倉庫|實驗室|檔案館|花園|年金|關稅|補助|許可證|合約|調查|報告|請願|罷工"),
    "adj": _w("新的|舊的|地方|全國|小型|大型|民營|公營|年輕的|偏鄉|都市|沿海|北部|南部|數位|綠色|獨立|"
              "昂貴的|便宜的|臨時|永久|年度|繁忙的|歷史悠久的|現代化的|擁擠的|脆弱的|嚴格的|正式的"),
    "verb": _w("通過了|否決了|推遲了|宣布了|質疑了|擴大了|批評了|審查了|公布了|取消了|資助了|測試了|"
               "承諾了|歡迎了|簡化了|修訂了|暫停了|啟動了|調查了|封鎖了|出售了|修復了|關閉了|開放了|重建了"),
    "time": _w("週一|週二|週三|週四|週五|上週|今年春天|三月|十月|假期後|選舉前|清晨|深夜|下午"),
    "place": _w("台北|高雄|台中|台南|新竹|基隆|花蓮|台東|嘉義|宜蘭|屏東|澎湖|香港|澳門"),
}


def en_sentence(rng: random.Random) -> str:
    c = rng.choice
    n = EN["noun"]
    k = rng.randrange(4)
    if k == 0:
        s = f"the {c(EN['adj'])} {c(n)} in {c(EN['place'])} {c(EN['adv'])} {c(EN['verb'])} the {c(n)} {c(EN['time'])}"
    elif k == 1:
        s = (f"{c(EN['first'])} {c(EN['last'])}, a {c(EN['adj'])} {c(n)} from {c(EN['place'])}, said the "
             f"{c(n)} {c(EN['verb'])} a {c(EN['adj'])} {c(n)} — and {c(EN['verb'])} the {c(n)} too")
    elif k == 2:
        s = f"“The {c(n)} {c(EN['verb'])} our {c(EN['adj'])} {c(n)},” {c(EN['first'])} {c(EN['last'])} told the {c(n)}"
    else:
        s = (f"{c(EN['time'])}, {rng.randint(2, 990)} {c(n)}s {c(EN['verb'])} the {c(EN['adj'])} {c(n)} of "
             f"{c(EN['place'])}, while the {c(n)} {c(EN['adv'])} {c(EN['verb'])} its {c(n)}")
    return s[0].upper() + s[1:] + "."


def de_sentence(rng: random.Random) -> str:
    c = rng.choice
    n = DE["noun"]
    if rng.random() < 0.5:
        s = f"{c(DE['time'])} {c(DE['verb'])} die {c(DE['adj'])} {c(n)} in {c(DE['place'])} den {c(n)} und die {c(n)}"
    else:
        s = (f"die {c(n)} aus {c(DE['place'])} {c(DE['verb'])} {c(DE['time'])} die {c(DE['adj'])} {c(n)}, "
             f"während der {c(n)} {rng.randint(2, 990)} Euro für die {c(n)} forderte")
    return s[0].upper() + s[1:] + "."


def zh_sentence(rng: random.Random) -> str:
    c = rng.choice
    n = ZH["noun"]
    if rng.random() < 0.5:
        return f"{c(ZH['place'])}{c(ZH['adj'])}{c(n)}{c(ZH['time'])}{c(ZH['verb'])}{c(n)}的{c(n)}，{c(n)}表示{c(ZH['adj'])}{c(n)}將{c(ZH['verb'])}{c(n)}。"
    return f"{c(ZH['time'])}，{c(n)}與{c(n)}{c(ZH['verb'])}「{c(ZH['adj'])}{c(n)}」，{rng.randint(2, 990)}名{c(n)}{c(ZH['verb'])}{c(ZH['place'])}的{c(n)}。"


SENTENCE = {"en": en_sentence, "de": de_sentence, "zh": zh_sentence}


def paragraph(rng: random.Random, lang: str) -> str:
    make = SENTENCE[lang]
    sep = "" if lang == "zh" else " "
    return sep.join(make(rng) for _ in range(rng.randint(2, 6)))


def headline(rng: random.Random, lang: str) -> str:
    c = rng.choice
    t = {"en": EN, "de": DE, "zh": ZH}[lang]
    if lang == "zh":
        return f"{c(t['place'])}{c(t['noun'])}{c(t['verb'])}{c(t['adj'])}{c(t['noun'])}"
    s = f"{c(t['place'])} {c(t['noun'])} {c(t['verb'])} {c(t['adj'])} {c(t['noun'])}"
    return s[0].upper() + s[1:]


@dataclass(frozen=True)
class Site:
    """A fake site: its fixed template lines, plus per-page lines drawn at render time."""

    host: str
    lang: str
    header: tuple[str, ...]  # logo, navigation: above the title
    byline: str  # format with {name} and {date}
    footer: tuple[str, ...]  # share, newsletter, legal lines: below the body
    related: str  # heading of the related-articles block


SITES: tuple[Site, ...] = (
    Site("dailyherald.example", "en", ("The Daily Herald", "Home | News | Politics | Business | Sport | Opinion",
         "Skip to main content"), "By {name} | {date}",
         ("Share this article: Facebook Twitter Email", "Subscribe to our newsletter for the latest news.",
          "© 2024 The Daily Herald. All rights reserved.", "Privacy Policy | Terms of Use | Contact Us"),
         "Related articles"),
    Site("techpulse.example", "en", ("TechPulse", "Reviews  Gadgets  Science  Deals  Podcasts", "Advertisement"),
         "{name} · {date} · 4 min read",
         ("Tags: policy, economy, cities", "Sign up for the TechPulse weekly digest",
          "We may earn a commission from links on this page.", "TechPulse is part of Pulse Media Group"),
         "More from TechPulse"),
    Site("wp-blog.example", "en", ("Notes from the Valley", "Menu", "Posted in Uncategorized"),
         "Posted on {date} by {name}",
         ("Like this: Like Loading...", "Leave a Reply", "Your email address will not be published.",
          "Proudly powered by WordPress | Theme: Twenty Twenty"), "Recent Posts"),
    Site("citynews.example", "en", ("City News Network", "Local  Weather  Traffic  Events  Obituaries",
         "Breaking: live updates"), "{date} — {name}, Staff Writer",
         ("Got a news tip? Email tips@citynews.example", "Follow us on Instagram and X",
          "Copyright 2024 City News Network", "Cookie settings | Accessibility"), "Trending now"),
    Site("dealhub.example", "en", ("DealHub", "Best picks | Coupons | Compare", "Disclosure: affiliate links"),
         "Updated {date} by {name}",
         ("Price last checked today. Prices may change.", "Buy now on Amazon", "Join 40,000 readers — subscribe",
          "© DealHub 2024"), "You might also like"),
    Site("tagesblatt.example", "de", ("Tagesblatt", "Startseite | Politik | Wirtschaft | Kultur | Sport",
         "Zum Inhalt springen"), "Von {name} | {date}",
         ("Artikel teilen: Facebook Twitter E-Mail", "Newsletter abonnieren und nichts verpassen",
          "© 2024 Tagesblatt Verlag GmbH", "Impressum | Datenschutz | AGB | Kontakt"), "Das könnte Sie auch interessieren"),
    Site("ritmo.example", "de", ("Ritmo Magazin", "Musik · Film · Reisen · Leben", "Anzeige"),
         "{date} · Text: {name}",
         ("Schlagwörter: Stadt, Verkehr, Politik", "Jetzt kostenlos registrieren",
          "Alle Rechte vorbehalten. Ritmo Medien 2024"), "Weitere Artikel"),
    Site("huaxun.example", "zh", ("華訊新聞網", "首頁 | 新聞 | 財經 | 科技 | 娛樂 | 體育", "廣告"),
         "記者{name}／{date}",
         ("責任編輯：王小明", "免責聲明：本文觀點僅代表作者本人，與本網站無關。", "分享到：微信 微博 QQ空間",
          "版權所有 © 2024 華訊新聞網 未經授權禁止轉載"), "相關閱讀"),
    Site("shibao.example", "zh", ("時報快訊", "即時 | 政治 | 國際 | 生活 | 評論"), "{date} {name}報導",
         ("更多新聞請追蹤我們的粉絲專頁", "本網站使用Cookie以提供更好的服務", "© 時報快訊 版權所有"), "延伸閱讀"),
)

NO_SITE = Site("misc", "", (), "", (), "")
ZH_NAMES = _w("陳志明|林美玲|王建國|張雅婷|李文華|黃俊傑|吳淑芬|劉家豪")
