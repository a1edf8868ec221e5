"""The words around the triggers (bot/safety/triggers.py): word classes (@NAME in a pattern), the
treatment and temperature words, the order of categories, the settings a trigger needs, idioms,
negation and resolving words, and common misspellings. Data only; bot/safety/rules.py compiles it.
"""
from __future__ import annotations

from typing import Any

_NUMBERS_4_TO_30 = "/".join(str(n) for n in range(4, 31))
_NX = "/".join(f"{n}x/x{n}" for n in range(4, 21))

CLASSES: dict[str, Any] = {
    # people: third-person reports ("mum collapsed", "my husband has a temperature") flag the same way
    "POSS": "=my/me/his/her/their/our/your/the/mums/dads/both",
    "REFL": "=myself/meself/himself/herself/themselves/themself/yourself/ourselves",
    "PARTNER": "=he/she/partner/husband/hubby/wife/boyfriend/girlfriend/bf/gf/fiance/fiancé/fiancee/"
               "ex/spouse/fella/bloke/missus/missis/half",
    "FAMILY": "=son/sons/daughter/daughters/brother/sister/dad/father/stepdad/stepfather/mum/mother/mam/mom/"
              "stepmum/stepmother/stepson/stepdaughter/grandson/granddaughter/nephew/niece/uncle/aunt/"
              "auntie/cousin/lodger/family/children/kids",
    "CARER": ["=carer/carers/career/careers/caregiver/caregivers/helper/helpers/aide/aides",
              "=care =worker/workers/staff/assistant/assistants/home/girls/lady/ladies",
              "=home =help/helps/carer/carers"],
    "ANYONE": "=someone/somebody/they/he/she/son/sons/daughter/daughters/grandson/granddaughter/nephew/"
              "niece/brother/sister/neighbour/neighbor/neighbours/carer/carers/friend/family/lodger/husband/"
              "wife/partner/people/person/scammer/scammers/relative/relatives/children/kids/cousin/uncle/"
              "aunt/stepson/stepdaughter/boyfriend/girlfriend/ex/man/woman/bloke/fella",
    "CHILD": "=kids/kid/children/child/childrens/kiddies/kiddos/baby/babies/toddler/toddlers/grandkids/boy/girl/"
             "grandchildren/grandchild/boys/girls/son/sons/daughter/daughters/stepson/stepdaughter/grandson/"
             "granddaughter/nephew/niece/teenager/teenagers/twins",
    # "can't" in all its SMS spellings, and the ways people say they struggle to do something
    "CANT": ["=ca =n't/nt/not @ADV?", "=can =not @ADV?", "=cnt/carnt/kant/cudnt/cldnt @ADV?",
             "=could =n't/nt/not @ADV?", "=unable =to", "=not/n't/nt =able =to",
             "=can/could =hardly/barely/barley/hardley/scarcely",
             "=struggling/struggle/struggled/struggles/strugling =to",
             "=hard/difficult/impossible =to", "=hurts/painful =to", "=trouble/difficulty"],
    "ADV": "=even/really/just/actually/properly/seem/hardly/barely/physically",
    "NOT": "=not/n't/nt/never/no/dnt/havnt/hvnt/cnt/nope",
    "HAVE": ["have/get/run/develop/spike/keep/wake", "=ve/'ve/s/'s/d/'d/with/got/gotten/running/ran/had"],
    "TQ": "=a/an/bit/of/slight/slightly/high/higher/raised/little/small/proper/massive/big/very/really/"
          "quite/mild/low/grade/bad/huge/spiking/constant/persistent/fluctuating/now/still/also/got/had/"
          "been/running/another/new/sudden/highish",
    "VERY": "=very/so/really/extremely/terribly/awfully/incredibly/super/seriously/proper/desperately/"
            "unbearably/constantly/always/too/increasingly",
    "LEGS": "leg/thigh/=legz",
    "MEDS": "pill/tablet/=meds/medication/medicine/medicines/tabs/morphine/oramorph/painkiller/painkillers/"
            "paracetamol/codeine/cocodamol/tramadol/oxycodone/zomorph/diazepam/insulin/amitriptyline/"
            "sertraline/citalopram/mirtazapine/zopiclone/gabapentin/pregabalin/fentanyl/=sleeping/drugs",
    "VIOL": "hit/punch/slap/kick/push/shove/beat/batter/hurt/grab/bite/smack/whack/thump/strike/attack/"
            "assault/rape/abuse/bully/strangle/choke/throttle/headbutt/restrain/spit/burn/pinch/"
            "=hits/hitting/hurts/hurting/beats/beaten/battered",
    "MONEY": "=money/pension/pensions/benefits/benefit/savings/card/cards/bank/account/accounts/pin/cash/"
             "wages/allowance/pip/esa/dla/inheritance/credit/debit/purse/wallet/cheque/cheques/chequebook/"
             "valuables/jewellery/rent/income",
    "DIARR": "=diarrhoea/diarrhoeas/squits/trots",
    "FREQ": "=" + _NUMBERS_4_TO_30 + "/four/five/six/seven/eight/nine/ten/eleven/twelve/fifteen/twenty/"
            "several/multiple/countless/numerous/umpteen/dozen/dozens/loads/lots/many",
    "CONST": ["=all =day/night/morning/afternoon/evening/weekend/week/time/the",
              "=non =-? =stop", "=nonstop/constantly/constant/continuously/continuous/repeatedly/everywhere/"
              "relentlessly/uncontrollably/uncontrollable",
              "@FREQ =of? =times/time/x/xs/episodes/goes", "=" + _NX,
              "=every =hour/half/time/few/couple", "=since =yesterday/last",
              "=for =2/3/4/5/two/three/four/five/several/a/few/couple =of? =days/day/nights",
              "=for =24/48/36/72 =hours/hrs/h"],
}
CLASSES["PERP"] = CLASSES["PARTNER"] + "/" + CLASSES["FAMILY"].lstrip("=")

# Where the screen looks for "is this person on anti-cancer treatment?" (clinical.md: people on or
# recently after chemotherapy, immunotherapy or radiotherapy follow the acute oncology rules, so
# any possible fever is urgent for them). Lower-case words or lemmas.
TREATMENT_CONTEXT = frozenset("""
chemo chemotherapy chemos immunotherapy immuno radiotherapy radiation radio rads infusion cycle cycles
oncology oncologist neutropenic neutropenia neutropaenic neutropaenia picc portacath hickman targeted
capecitabine docetaxel paclitaxel carboplatin cisplatin oxaliplatin epirubicin cyclophosphamide
gemcitabine pembrolizumab nivolumab ipilimumab atezolizumab durvalumab keytruda opdivo herceptin
trastuzumab pertuzumab fec folfox folfiri xelox capox abemaciclib palbociclib ribociclib
""".split())

# Words that make a bare whole number ("38") a temperature reading.
TEMPERATURE_CONTEXT = frozenset("""
temp temps temperature temperatures fever feverish thermometer degrees degree ° º celsius centigrade
fahrenheit pyrexia pyrexial reading hot shivery shivering febrile
""".split())

# The ones that make a low number (below 36) a body temperature: not "hot", not "degrees" (the weather).
BODY_TEMPERATURE_CONTEXT = TEMPERATURE_CONTEXT - {"hot", "degrees", "degree", "°", "º", "celsius", "centigrade",
                                                  "fahrenheit"}


# The order among flags of the same severity and kind: the more immediately dangerous first.
CATEGORY_ORDER = ("suicide", "self_harm", "child_abuse", "adult_abuse_neglect", "domestic_abuse", "financial_abuse",
                  "carer_strain",
                  "breathing_chest", "collapse_stroke", "bleeding", "spinal_cord_compression", "neutropenic_sepsis",
                  "dehydration_toxicity", "svco", "hypercalcaemia")

# Settings a trigger needs somewhere in the same text (TRIGGERS[...]["needs"]), written like triggers.
# "caring": the writer looks after someone, or someone looks after the patient.
SETTINGS: dict[str, dict[str, list[str]]] = {
    "caring": {
        "phrases": [
            "young carer",
            "main carer",
            "only carer",
            "full time carer",
            "full-time carer",
            "carer's allowance",
            "carers allowance",
            "respite",
        ],
        "patterns": [
            "=caring/care/cares/cared =for =him/her/them/my/mum/dad/mam/nan/gran/both/everyone/me/us",
            "=looking/look/looks/looked/lookin =after =him/her/them/my/mum/dad/mam/nan/gran/both/everyone/me/us/either",
            "=caring/carer/carers/caregiver",
            "=does/doing/do/did =everything/all =for =me/him/her",
            "=doing/do/does/did =all =his/her/their/the =care/caring",
            "=care =is =on =me",
            "=needs/need =turning/lifting/changing/washing",
            "@CANT =leave =him/her",
            "=lift/lifting/lifted/turning/toileting =him/her/mum/dad/mam",
            "@CANT =lift/get/move =him/her/dad/mum/mam !head/arm/arms/leg/legs/hand/hands/foot/feet/neck/cup/fork/"
            "spoon",
            "=to =look =after !myself/yourself/himself/herself/ourselves/themselves",
        ],
    },
}

# Safeguarding categories that rank after a clinical flag of the same severity in the same text: a
# carer's strain is read by a person the same day either way, but only the clinical safety net
# carries the advice the person cared for may need now ("she can't lift her head, the pain...").
YIELDS_TO_CLINICAL = frozenset({"carer_strain"})

# Figures of speech that contain a trigger word but are not red flags. A trigger match that
# overlaps one of these is dropped (other triggers in the same text still count).
IDIOMS: dict[str, list[str]] = {
    "phrases": [
        "kill for a", "could kill for", "dead tired", "dead on my feet", "died laughing",
        "nearly died", "almost died", "bored to death", "sick to death", "sick of", "sick and tired", "off sick",
        "sick note", "sick pay", "sick leave", "sick day", "sick days", "worried sick", "sick with worry",
        "sick with nerves", "heart broken", "heartbroken", "broke my heart", "breaks my heart", "broken hearted",
        "broken-hearted", "my heart sank", "heart goes out", "dying for a", "pain in the neck",
        "pain in the backside", "pain in the bum", "pain in the arse", "pain in the butt", "hot flush",
        "hot flushes", "hot flash", "hot flashes", "hay fever", "hayfever", "cabin fever", "stroke of luck",
        "stroke of genius", "stroke of midnight", "off my chest", "weight off my chest", "bleeding hell",
        "bleeding heck", "bleeding ridiculous", "bleeding obvious", "bleedin hell", "blood test", "blood tests",
        "blood pressure", "blood results", "blood count", "blood counts", "blood sugar", "blood sugars",
        "blood form", "blood donor", "blood donation", "take my breath away", "took my breath away",
        "breath of fresh air", "breathe a sigh", "breathed a sigh", "hold my breath", "holding my breath",
        "over my dead body", "kill two birds", "killing time", "fit and well", "keep fit", "drop dead gorgeous",
        "sick as a parrot", "pill to swallow", "a lot to swallow", "gave me a heart attack",
        "give me a heart attack", "giving me a heart attack", "nearly had a heart attack",
        "almost had a heart attack", "life threatening", "life-threatening", "substance abuse", "alcohol abuse",
        "drug abuse", "abuse of power", "confused you", "confuse you", "sorry for the confusion",
        "apologies for the confusion", "for any confusion", "avoid confusion", "cause confusion",
        "give up smoking", "given up smoking", "giving up smoking", "give up drinking", "given up drinking",
        "give up alcohol", "scared to death", "frightened to death", "worried to death",
        "it hit me", "it's hit me", "its hit me", "it has hit me", "it really hit me", "it just hit me",
        "hit me hard", "hit me like", "hits me hard", "news hit me", "it hits me",
        "collapse of", "breaking my heart", "break my heart",
        "cut myself off", "cut off from", "cutting corners", "running a temp job", "temp job", "temp agency",
        "temp work", "temping", "hot and bothered", "let me lift a finger",
        "gasping for a", "choking back", "want to be a burden",
        "wanna be a burden", "shoot myself in the foot", "kicking myself", "kick myself", "kicked myself",
    ],
    "patterns": [
        "=will/'ll/ll/would/'d/na =have =a =fit",
        "=have/had/having =a =fit =when/if/about/over/because",
        "=the/this/that/it/waiting/wait/worry/worrying/stress/news/not/feet/knees/hips/boredom/anxiety =is/'s/s/are? "
        "=killing/killed/kill =me",
        "=could/would/'d =murder =a",
        "=die/died/dying/dead =of =embarrassment/shame/boredom",
        "bleed/=bleeding/bled =me/us/them/him/her/you =dry",
        "=nearly/almost =had/have/having =a? =stroke/heart/fit/seizure/breakdown/coronary",
        "=he/she/husband/hubby/wife/dad/mum/mam/son/daughter/brother/sister/'s/s ~2 =hopeless",
        "=hopeless =with/at =phones/phone/technology/tech/computers/computer/texts/texting/cooking/money/names/"
        "directions/maths/gadgets/forms",
        "=dog/dogs/cat/cats/puppy/kitten/pet/pets/horse/rabbit/budgie/hamster/parrot =has/is/'s/s/was/been/keeps/"
        "got/seems =been/got? =poorly/unwell/ill/sick/falling",
        "=dying =to =know/get/see/hear/go/have/try/meet/find/tell/do/start/finish/watch/read/ask",
        "=laugh/laughing/laughed ~2 =died/dead/die",
        "=died/passed/death/die/dying =away? =of/from/after/with =a/his/her/my? =stroke/seizure/fit/collapse/heart/"
        "clot",
    ],
}

# Words that, shortly before a trigger in the same clause, cancel it ("no fever", "haven't had
# any chest pain"). Only the fillers below may stand between the cue and the trigger.
NEGATION_CUES = frozenset({"no", "not", "n't", "nt", "never", "without", "none", "nor", "neither", "dnt", "havnt",
                           "hvnt", "nothing", "zero", "stopped"})
NEGATION_WINDOW = 6
NEGATION_FILLERS = frozenset("""
a an any the some much more really real actually got get getting gotten have has had having 've ve been be
being felt feel feeling feels seem seems seemed notice noticed noticing experienced experiencing
experience see seen seeing signs sign of further new high higher raised longer or nor obvious serious
major significant recent ever even once yet thinking about suffer suffered suffering from with developed develop show
shown showing symptoms symptom evidence complain complained complaining report reported mention mentioned
do does did 's s is are was were am 'm m anymore currently at all other kind sort thoughts thought plans plan
intention intentions feelings urges urge history problems issues episodes
""".split())
# "no" negates only a noun phrase straight after it: "no fever", "no more sickness", but not
# "no been sick all night" (= "No, [I've] been sick all night"). "no longer"/"no more" act like "not".
NO_FILLERS = frozenset("""
more longer further real obvious new sign signs of sort kind evidence serious major significant big high
raised fresh actual recent a an any or nor other apparent noticeable visible thoughts thought plans plan
intention intentions feelings urges urge history problems issues episodes
""".split())
# A resolving word right after a clinical trigger in the same clause cancels it ("temperature is
# normal", "the bleeding has stopped"). Multi-word ones are tuples.
POST_RESOLVERS = (("normal",), ("fine",), ("ok",), ("okay",), ("stopped",), ("settled",), ("resolved",),
                  ("cleared",), ("cleared", "up"), ("gone", "away"), ("went", "away"), ("under", "control"),
                  ("back", "to", "normal"), ("gone",), ("gone", "down"), ("come", "down"), ("came", "down"),
                  ("going", "down"), ("not", "anymore"), ("not", "any", "more"), ("no", "more"), ("eased",),
                  ("passed",))
# These resolvers only count at the end of the clause ("temperature's come down." but not "pain
# going down my arm").
POST_RESOLVERS_AT_END = frozenset({("gone",), ("gone", "down"), ("come", "down"), ("came", "down"),
                                   ("going", "down"), ("not", "anymore"), ("not", "any", "more"), ("no", "more"),
                                   ("passed",), ("eased",)})
POST_FILLERS = frozenset("is 's s was has have had been now all completely totally seems seem 're are were "
                         "thankfully luckily already back".split())
# After "but" only these resolve ("was being sick but not any more"; not "coughing up blood but fine").
BUT_RESOLVERS = frozenset({("not", "anymore"), ("not", "any", "more"), ("no", "more"), ("stopped",)})
AT_END_WORDS = frozenset({"now", "again", "today", "thankfully", "completely"})
# Words that end a clause for negation and gaps.
CLAUSE_BREAKERS = frozenset({"but", "though", "although", "however", "except", "whereas", "because", "cos",
                             "coz"})

# Common misspellings and SMS spellings -> the word the patterns use (applied before lemmatizing).
MISSPELLINGS: dict[str, str] = {
    **dict.fromkeys("temprature tempreture temperture tempature temperatur temprture tempratur tempurature "
                    "temperatue tempriture tempeture temparature temperatre tempatature".split(), "temperature"),
    **dict.fromkeys("feaver fevor fevar fevre feever fevah".split(), "fever"),
    **dict.fromkeys("feverishh feaverish feverash".split(), "feverish"),
    **dict.fromkeys("shivvery shiverey shivary shivey shivry".split(), "shivery"),
    **dict.fromkeys("shivvering shivring shiverring".split(), "shivering"),
    **dict.fromkeys("shakey shakie shakky".split(), "shaky"),
    **dict.fromkeys("bleading bleeing bleding bledding bleedng bleedin bleeeding".split(), "bleeding"),
    **dict.fromkeys("blud bloood".split(), "blood"),
    **dict.fromkeys("breth breeth brethe breath".split(), "breathe"),
    **dict.fromkeys("breathin brething breething breathng".split(), "breathing"),
    **dict.fromkeys("breathles brethless breathlesss breathliss".split(), "breathless"),
    **dict.fromkeys("vomitting vommiting vomming vomitin vommitting vomiding vomitng".split(), "vomiting"),
    **dict.fromkeys("vommited vomitted vommitted".split(), "vomited"),
    **dict.fromkeys("vommit vomet".split(), "vomit"),
    **dict.fromkeys("diarhea diarrhea diahrea diarrea diarreah diarhoea diarroea diarrohea diorrhea diorrhoea "
                    "diarhorrea diahorrea diarrhoae diarhhoea diareah dioreah diarrhoe diarreha diarrhia "
                    "diaorrhea diahrroea diarhorea diarrohoea diarrhaea diarreoh diarhea diaria diarrheah "
                    "diahoreah diarea".split(), "diarrhoea"),
    **dict.fromkeys("collaped colapsed collasped collapesd collpased colasped colappsed".split(), "collapsed"),
    **dict.fromkeys("colapse collaps".split(), "collapse"),
    **dict.fromkeys("unconcious unconsious unconscience unconcsious".split(), "unconscious"),
    **dict.fromkeys("confussed confued confuzed confusd confuesd".split(), "confused"),
    **dict.fromkeys("drowsey drowzy drousy".split(), "drowsy"),
    **dict.fromkeys("swolen swollon swolled swolllen swallen".split(), "swollen"),
    **dict.fromkeys("sweling swellin".split(), "swelling"),
    **dict.fromkeys("suicidel suicidle sucidal suicadal suisidal suicidial sucicidal suicidale sucidial "
                    "suacidal suicdal".split(), "suicidal"),
    **dict.fromkeys("suiside sucide suicde suecide suacide suicid".split(), "suicide"),
    **dict.fromkeys("seizzure siezure seisure sezure seizur".split(), "seizure"),
    **dict.fromkeys("incontinant".split(), "incontinent"),
    **dict.fromkeys("bruses bruizes".split(), "bruises"),
    **dict.fromkeys("bruseing brusing bruiseing".split(), "bruising"),
    **dict.fromkeys("haemorage hemorage hemorrage haemorrage".split(), "haemorrhage"),
    **dict.fromkeys("threatend thretened threatned".split(), "threatened"),
    **dict.fromkeys("threatning thretening".split(), "threatening"),
    **dict.fromkeys("slured slurrd".split(), "slurred"),
    **dict.fromkeys("myslef mysef myselfe".split(), "myself"),
    **dict.fromkeys("coughin cofing coffing caughing coughung".split(), "coughing"),
    **dict.fromkeys("chemotheraphy chemotherepy chemotharapy".split(), "chemotherapy"),
    **dict.fromkeys("radiotheraphy radiotherepy".split(), "radiotherapy"),
    "feinted": "fainted", "fainthed": "fainted", "passd": "passed", "urin": "urine",
    "wheezin": "wheezing", "shakin": "shaking", "shiverin": "shivering", "vomitin": "vomiting",
    "stoped": "stopped", "stopt": "stopped", "cheast": "chest", "chesr": "chest", "chst": "chest",
    "preassure": "pressure", "prssure": "pressure", "painfull": "painful", "numbess": "numbness",
    "legz": "legs", "lgs": "legs", "wekness": "weakness", "weeknes": "weakness", "weekness": "weakness",
    "thirsy": "thirsty", "thristy": "thirsty", "thursty": "thirsty", "dizzey": "dizzy",
}
# Key red-flag words that an unknown word within one edit (two for long words) is taken to mean.
FUZZY_TARGETS = tuple("""
temperature fever feverish shivering shivery shaking shaky rigors bleeding breathe breathing breathless
breathlessness vomiting vomited diarrhoea collapsed collapse fainted unconscious unresponsive confused
drowsy swollen swelling suicidal suicide seizure numbness weakness paralysed incontinent bladder bowels
bruising bruises haemorrhage threatened threatening abusive overdose slurred drooping chemotherapy
radiotherapy immunotherapy thermometer myself tablets medication coughing strangled stockpiling
""".split())
