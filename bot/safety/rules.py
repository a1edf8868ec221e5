"""The deterministic safety screen: every inbound patient text passes here before any dialogue.

A missed red flag is the worst failure this product can have, so the screen errs on the side of
flagging: a flag costs a person reading a text; a miss can cost a life. It never diagnoses and
never downgrades; it only says "a person must look at this, this soon, and here is why".

How a text is screened (all rule-based, no statistical model):

1. The text is lower-cased in a way that keeps every character offset, so the evidence returned
   is always the exact words of the original text.
2. spaCy's blank English tokenizer splits it; common misspellings ("temprature", "bleading",
   "diarhea") are mapped to their canonical word, and an unknown word within a small edit distance
   of a key red-flag word is mapped too (`FUZZY_TARGETS`). Then the rule-based lookup lemmatizer
   (tables from spacy-lookups-data) gives each word its lemma, so "coughed", "coughing" and
   "coughs" all match "cough".
3. `TRIGGERS` (below, the one place the vocabulary lives) is compiled into spaCy Matcher patterns
   (on LEMMA and LOWER) and a PhraseMatcher (literal phrases on LOWER). Each pattern only runs on a
   text that contains every word it needs (a cheap set check), which keeps a text under a millisecond.
4. Every match is then checked for
   - idioms ("this waiting is killing me", "sick of waiting", "pain in the neck"): a match that
     overlaps an idiom is dropped;
   - negation: a negation cue ("no", "not", "n't", "never", "without", "no longer") shortly before
     the trigger in the same clause, with only filler words between ("haven't got ANY chest
     pain", "no fever", "no chest pain or breathlessness"), cancels it. "no" only negates what
     directly follows it: "no been sick all night" (= "No, been sick...") still flags. Negation
     words that are part of the trigger itself ("can't
     breathe", "bleeding won't stop", "not passed urine") never cancel it. For clinical triggers a
     resolving word right after it in the same clause ("temperature is normal", "bleeding has
     stopped") cancels it too, unless the clause is a question ("is coughing up blood normal?").
5. Temperatures are read as numbers: 37.5 C or more (or 99.5 F or more) flags, a decimal like
   "37.8" on its own, a whole number like "38" only next to a temperature word; below 36 C next
   to a body-temperature word flags too (NICE sepsis sign; not "30 degrees" or "at 34" near
   "hot"). A normal reading (36.0-37.4) right after a fever phrase ("had a temp of 37.1")
   cancels that phrase.
6. The whole text's context can set a hit aside (`bot.safety.context`): an event told as past and
   over ("had a temp last week, all good now"; never when it is back or the time is recent), a
   fever explained by a vaccine when no anti-cancer treatment is current, a "my mum would kill me
   if..." hypothetical. Only that hit goes: the other hits of the text still count.
7. A fever flag is raised to "urgent" when the text mentions chemotherapy, immunotherapy,
   radiotherapy or another anti-cancer treatment (`TREATMENT_CONTEXT`).

`screen()` returns the most serious flag: urgent before soon, then safeguarding before clinical,
then the order of `CATEGORY_ORDER`. It never raises: if the screen itself fails, it returns a
"screen_error" flag so that a person reads the text (fail safe, never fail silent).
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from bot.safety import context as safety_context
from bot.nlu.english import build as build_english
from bot.nlu.spelling import FuzzyIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Flag:
    kind: str        # "clinical" or "safeguarding"
    severity: str    # "urgent" (999-level or same-hour) or "soon" (same day)
    category: str    # e.g. "neutropenic_sepsis", "suicide", ... (see TRIGGERS), or "screen_error"
    evidence: tuple[str, ...]   # the exact words in the text that matched


# =====================================================================================================
# THE VOCABULARY. Everything the screen looks for is in this section.
#
# Pattern syntax (strings in "patterns" lists; one space-separated item per word):
#   cough             any form of the word (matched on its lemma: cough, coughs, coughed, coughing)
#   cough/spit        any form of either word
#   =up               exactly this word (lower case), no other forms; "=a/an/the" exactly one of these
#   @NAME             a word class from CLASSES (a class may be several words long, e.g. @CANT)
#   x?                the item is optional
#   ~3                up to 3 further words of the same clause (never a negation, never "but", never
#                     punctuation), e.g. "legs ~3 weak" matches "legs have gone really weak"
#   !of/in            (last item only) the match does not count when the next word is one of these
# Strings in "phrases" lists are matched literally (ignoring case) with a PhraseMatcher.
# =====================================================================================================

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

TRIGGERS: dict[str, dict[str, Any]] = {
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "possible neutropenic sepsis": temperature 37.5 C or higher, feeling
    # hot/cold/shivery, "flu-like", unwell after chemo. Same day by default; urgent (call the
    # acute oncology helpline now) on treatment, see TREATMENT_CONTEXT. Numbers: see _temperatures.
    "neutropenic_sepsis": {
        "kind": "clinical",
        "urgent": {
            "patterns": ["rigor/rigour/=rigors/rigours"],
        },
        "soon": {
            "patterns": [
                "fever/feverish/febrile/pyrexia/pyrexial/fevers",
                "@HAVE @TQ? @TQ? @TQ? @TQ? temperature/temp !check/checks/checked/taken/test/reading/gun/probe/strip/"
                "monitor/chart/log/job/agency/contract",
                "=a @TQ? @TQ? temperature/temp !check/checks/checked/taken/test/reading/gun/probe/strip/monitor/chart/"
                "log/job/agency/contract",
                "temperature/temp ~2 =up/high/higher/raised/rising/spiking/spiked/soaring/climbing/rocketing/"
                "over/above/keeps",
                "=high/raised/spiking/rising/soaring =temperature/temp/temps/temperatures",
                "temperature/temp ~2 @NOT =normal/right/good/down/ok/okay",
                "temperature/temp/fever ~2 =thirty/forty =eight/nine/seven",
                "=thirty =seven =point =five/six/seven/eight/nine",
                "=thirty =eight/nine =degrees/point",
                "shivery/shiver/=shiverish/shivvery",
                "=hot/boiling/burning/roasting/cold/freezing =and/n/& =cold/hot/shivery/shaky/shakey/shaking/"
                "sweaty/clammy/shivering/sweating",
                "=hot/cold =one =minute ~3 =cold/hot",
                "=hot/boiling/roasting/burning ~2 =cold/freezing/shivery/shivering/shaking/shaky/shakey !feet/hands/"
                "weather/day/water/drink/in/outside/here/there",
                "=cold/freezing ~2 =hot/boiling/roasting/burning !water/drink/bath/weather/day/tea/chocolate/in/"
                "outside/here/there",
                "=boiling/burning/roasting =hot",
                "=hot =to =the? =touch",
                "temperature/temp ~3 =through =the =roof",
                "temperature/temp ~2 =sky =-? =high",
                "=sweating =and =shaking/shivering/shivery/cold",
                "feel ~2 =hot/boiling/roasting/clammy/burning !flush/flushes/flushing/flash/flashes/water/drink/"
                "bath/chocolate/tea/sometimes/occasionally",
                "=burning/boiling =up",
                "=cold =sweat/sweats/sweating",
                "=sweats/sweaty/clammy",
                "=sweating !about/over/on/it/the",
                "=drenched/soaked/dripping =in/with =sweat",
                "=shaking/shake/shakes/shook/trembling ~2 =cold/uncontrollably/uncontrollable/all/violently/"
                "badly/hot/and",
                "=uncontrollable/uncontrollably/violent/violently ~2 =shaking/shivering/shakes/trembling",
                "@CANT =stop =shaking/shivering/trembling",
                "=the =shakes",
                "=teeth ~2 =chattering",
                "=shaky/shakey/shakie !on",
                "=chills",
                "=flu =- =like",
                "=flu =like",
                "=fluey/fluy/flue/fluish/influenza",
                "=like ~3 =flu !jab/jabs/vaccine/vaccination/injection/shot/clinic/job",
                "@HAVE =the? =flu !jab/jabs/vaccine/vaccination/injection/shot/clinic/job",
                "=flu =symptoms/symptom",
                "=got/have/has/'ve/ve/'s/s/with/caught/catch =covid/coronavirus !jab/jabs/vaccine/vaccination/booster/"
                "test/tests/testing/before/last/in",
                "=covid =positive",
                "=positive ~2 =covid",
                "=unwell/poorly",
                "feel ~2 =ill/rough/awful/terrible/dreadful/horrendous/horrible/grim/rotten/lousy/crap/shit/"
                "ropey/ropy !about/for/that/asking/bothering/to/saying/leaving/missing/having/when/because",
                "=not/n't/nt =feel/feeling/felt/been/be/feelin =well/right/good/himself/herself/myself",
                "=not/n't/nt =well/right =at =all",
                "=not/n't/nt =herself/himself/myself/themselves",
                "@VERY =ill/sick !of/and/note/pay/leave/day/days/to",
                "=infection/infected/sepsis/septic",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "spinal cord compression": new/worse back or neck pain, leg weakness,
    # numbness, can't walk, bladder/bowel control lost. Same hour when the legs, bladder or bowels
    # are affected; same day for new back or neck pain on its own.
    "spinal_cord_compression": {
        "kind": "clinical",
        "urgent": {
            "patterns": [
                "@LEGS ~3 =weak/weaker/weakness/numb/numbness/heavy/jelly/wobbly/dead/useless/paralysed/paralyzed/"
                "tingly/tingling/buckle/buckling/buckled/collapsing/collapsed/funny/lead/concrete/rubber/rubbery/"
                "wooden",
                "@LEGS ~2 give/go =way/out/from/under",
                "@LEGS ~2 @NOT ~1 =work/working/hold/holding/move/moving",
                "=weak/weakness/numb/numbness/heavy/heaviness/tingling/jelly/wobbly/dead ~3 @LEGS",
                "=pins =and =needles ~3 @LEGS",
                "@CANT ~1 =walk/walking",
                "@CANT ~1 =stand !the/it/him/her/them/this/that/waiting/people/being/hospitals/needles/doctors/"
                "my/you/when/how/having/to/for/anymore",
                "@CANT =bear/take/put =weight",
                "=not/n't/nt =walking/standing",
                "@CANT =feel @POSS? leg/thigh/foot/bottom/bum/toe/=legz",
                "@CANT =move/lift/bend/use @POSS? leg/thigh/=legz",
                "lose/lost/losing/=no =feeling/sensation =in/of ~2 leg/thigh/foot/=legz/feet/bottom/bum",
                "keep =tripping/stumbling",
                "keep =falling =over/down",
                "=accident/accidents ~3 =waterworks/bladder/wee/pee/bowels/bowel/toilet/poo",
                "lose/lost/losing/=no =control =of =my/his/her/the? bladder/bowel/bowels/wee/pee/poo",
                "@CANT =control @POSS? bladder/bowel/bowels/wee/pee/poo/peeing/weeing",
                "@CANT =hold =my/his/her/it? =wee/pee/poo/bladder/bowels !in",
                "=wet/wetting/wets/soiled/soiling/soil/pooed/pooing/peed/pissed/weed @REFL",
                "=wet/wetting/wets/wetted =the =bed",
                "=accident/accidents =in =my/his/her/the =pants/trousers/knickers/bed",
                "=incontinent/incontinence",
                "numb/numbness/=tingling ~3 =bum/bottom/genitals/saddle/groin/between/privates",
                "=paralysed/paralyzed/paralysis",
            ],
        },
        "soon": {
            "patterns": [
                "back/neck/spine/spinal =pain/ache/aches/aching/pains/agony",
                "=backache/neckache/backpain",
                "=my/me/his/her/their/our/your/the/mums/dads/both/in/lower/upper/middle back/neck/spine ~3 "
                "pain/ache/hurt/agony/sore/kill/excruciating/bad/throbbing/aching/worse/killing/agonising/stabbing/"
                "unbearable",
                "pain/ache/=aching/agony/=pains ~2 =in/across/down/up/around/round @POSS back/neck/spine",
                "=sore/painful/aching/bad/achy/stiff/agonising =back/neck",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "bleeding": coughing/vomiting blood, black stools, bleeding that won't
    # stop (urgent: 999 if heavy); unexplained bruising and other bleeding (helpline, same day).
    "bleeding": {
        "kind": "clinical",
        "urgent": {
            "patterns": [
                "cough/spit/hack ~2 =up? =blood/bloody",
                "bring =up ~1 =blood",
                "cough ~5 =blood/bloody",
                "=blood ~3 =when/if/after =i/he/she/they? cough",
                "vomit/sick/throw/puke/=threw/retch ~3 =blood/bloody",
                "=blood ~3 =in/with/when @POSS? vomit/sick/puke/spew/sickbowl/bucket",
                "=coffee =grounds/ground",
                "=black/tarry/jet/dark/tar/blackish/maroon ~2 poo/poop/stool/motion/faeces/feces/shit/=number/twos/"
                "bowel/poos",
                "poo/poop/stool/motion/faeces/feces/shit ~4 =black/tarry/tar/blackish",
                "=melaena/melena",
                "bleed/nosebleed/=bleeding/blood ~3 @NOT ~1 stop/stopping/=stopped/clot/clotting/slow/ease",
                "@CANT =stop/stem ~2 bleed/nosebleed/=bleeding/blood",
                "@NOT ~1 stop ~1 bleed/=bleeding/=blood",
                "=heavy/heavily/lots/loads/pouring/gushing/pumping/alot/massive/profusely ~2 bleed/=blood",
                "=a =lot =of =blood/bleeding",
                "bleed/=bleeding ~2 =heavily/loads/lots/everywhere/badly/profusely/alot/lot/through",
                "=blood =everywhere/pouring/gushing",
                "=haemorrhage/hemorrhage/haemorrhaging/hemorrhaging/haemorrhaged/hemorrhaged",
            ],
        },
        "soon": {
            "patterns": [
                "bleed/=bleeding/bleedin/bled",
                "=blood ~2 =in/on/from @POSS? urine/wee/pee/poo/stool/stools/toilet/loo/pants/knickers/"
                "tissue/motions/bowel/pad/sheets/pillow/sputum/phlegm/spit/mucus/nappy/catheter/bag/bottom/bum/"
                "nose/mouth/gums/wound/scar/stoma !test/tests/sample/samples/result/results/dip/dipstick",
                "=bloody/blood =urine/wee/pee/poo/stool/stools/nose/diarrhoea/phlegm/mucus/discharge/sputum",
                "=pooing/pooping/poo/pass/passing/passed/weeing/peeing ~2 =blood/bloody",
                "bruise/=bruising ~3 =all/over/everywhere/unexplained/loads/lots/appearing/random/big/huge/"
                "nowhere/reason",
                "=unexplained/random/strange/weird/lots/loads/new/funny/massive/huge/odd ~1 bruise/=bruising",
                "=tiny/little/small/pinprick/purple/red ~2 =spots/dots",
                "=pinprick/petechiae/petechial",
                "=nosebleed/nosebleeds",
                "=nose ~2 bleed/=bleeding",
                "gum/=gums ~2 bleed/=bleeding",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "breathing / chest": can't breathe, breathless at rest, chest pain,
    # swollen painful calf + breathless (clot). 999.
    "breathing_chest": {
        "kind": "clinical",
        "urgent": {
            "patterns": [
                "@CANT =really/even/properly/barely? =breathe/breath/breathing/breth/breathin/breathe",
                "@CANT =catch/get/find @POSS? =breath/breathe",
                "=struggling/struggle/struggled/fighting/battling/gasping/gasped ~2 =to/for? =breathe/breath/air/"
                "breathing",
                "=hard/difficult/difficulty/trouble/problems/problem/hurts/painful/laboured/labored ~3 "
                "=breathe/breathing/breath",
                "=breathing/breathin ~3 =bad/worse/awful/terrible/funny/fast/rapid/laboured/labored/noisy/"
                "heavy/shallow/difficult/hard/strange/weird/rattly",
                "=short/shortness ~2 =breath/breathe/breathed",
                "=breathless/breathlessness/breathlesness/breathles",
                "=gasping/gasp/gasps/wheezing/wheezy/wheeze/wheezes/suffocating/choking/puffing/panting",
                "pain/=painful/hurt/=hurts/sore/agony/=sharp/=stabbing ~3 =when/if/as/to ~2 =breathe/breath/breathing/"
                "inhale",
                "chest ~5 =elephant/weight/brick/band/vice/vise/crushed/squeezed/pressing",
                "=not/n't/nt/stopped =breathing/breathin",
                "=lips/fingers/face ~3 =blue/grey/gray",
                "=turning/gone/going/went/turned =blue",
                "@CANT =get/breathe/take =enough/any? =air/oxygen",
                "chest ~3 pain/ache/hurt/=tight/tightness/heavy/heaviness/pressure/agony/sore/crush/crushing/"
                "burning/sharp/discomfort/squeeze/squeezing/kill/bad/weird/funny/hurting/pains/tighten/"
                "tightening/stabbing/killing/aching",
                "pain/ache/tightness/pressure/heaviness/discomfort/agony/=crushing/tight/sharp/stabbing/"
                "burning/=pains/=heavy/=feeling/=weight/=squeezing/=pressing/=tightening ~2 "
                "=in/across/on/around/round/through/over/under/behind ~1 chest",
                "=tight/tighter/heavy/sore/painful/achy/aching/burning/crushing =chest",
                "=heart =attack/attacks",
                "=angina",
                "=calf/calves ~3 swell/=swollen/=swelling/pain/=painful/sore/tender/hot/red/hard/ache/=aching/"
                "hurt/=hurts/throbbing/tight/bigger",
                "swell/=swollen/=painful/sore/tender/hot/red/hard/=aching/throbbing =calf/calves",
                "pain/ache/cramp/=pains ~2 =in =my/his/her/the? =calf/calves",
                "=one =leg ~3 =bigger/swollen/fatter/larger/swelling/puffy",
            ],
        },
        "soon": {
            "patterns": [
                "=out =of =breath/breathe/breth",
                "@LEGS ~3 =swollen/swelling/puffy/bigger",
                "=swollen/swelling/puffy @LEGS",
                "=clot/clots/dvt/embolism",
                "=palpitations",
                "=heart ~2 =racing/pounding/fluttering/thumping/banging/skipping/jumping",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "SVCO" (superior vena cava obstruction): swelling of face/neck/arm,
    # headache, breathless. Same day: acute oncology.
    "svco": {
        "kind": "clinical",
        "soon": {
            "patterns": [
                "=face/neck/arm/arms/eyes/eyelids/throat/collar/head/cheeks ~3 =swollen/swelling/swell/puffy/"
                "puffed/bloated/swolen/fat/swelled/ballooned",
                "=swollen/swelling/puffy/puffiness/puffed/bloated ~3 =face/neck/arm/arms/eyes/eyelids/cheeks/throat",
                "=veins ~3 =chest/neck/bulging/swollen/sticking/visible/popping",
                "=bulging/swollen/swelling/prominent/popping ~2 =veins",
                "=collar/collars ~3 =tight/tighter",
                "=face/neck/head/eyes ~3 =balloon/ballooned/ballooning/moon",
                "=lymphoedema/lymphedema",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "hypercalcaemia": very thirsty, confused, drowsy, constipated, sick.
    # Same day clinician. (Confusion about our messages is not a red flag: see _info_confusion.)
    "hypercalcaemia": {
        "kind": "clinical",
        "soon": {
            "patterns": [
                "=confused/disorientated/disoriented/muddled/delirious/befuddled/confuzzled "
                "!about/by/with/as/over/regarding/re/at/on/why/what/how/which/whether/when/if/because/cos/coz/"
                "reading/from/to/who/where",
                "=confused =about =where/who/what/which =she/he/they/i/we/day/time/year/date/is/am",
                "=confusion !about/over/with/regarding/around/re/as/in/on/at/of",
                "=he/she/mum/dad/husband/wife/partner/mam/mom/they/father/mother/nan/gran/grandma/grandad/him/her/"
                "son/daughter/brother/sister ~3 =not/n't/nt =making =any? =sense",
                "=i/'m/m ~2 =not/n't/nt =making =any? =sense",
                "=out =of =it",
                "=talking/talk/talks =nonsense/gibberish/jibberish",
                "=n't/nt/not =recognise/recognize/recognising/recognizing/recognised/recognized =me/us/anyone/"
                "her/him/family/people/his/her",
                "=n't/nt/not =know =who =i/she/he/we/they =am/is/are/'m/'s/was/were",
                "=n't/nt/not =know =where =he/she/they/i/we =is/are/am/'s/'m/was/were",
                "=away =with =the =fairies",
                "=not =with =it",
                "=seeing =things !differently/clearly/more/in/from/through/as/like/the/a",
                "=hallucinating/hallucinations/hallucinate",
                "=drowsy/drowsiness/drowsey/drowzy",
                "@VERY =sleepy/lethargic/dopey",
                "@CANT =stay/keep ~1 =awake",
                "@CANT =keep @POSS? =eyes =open",
                "=keeps/keep/kept/keeping =falling/dropping/nodding =asleep/off",
                "=sleeping =all =day/the",
                "=hard/difficult =to =wake/rouse",
                "@VERY =thirsty/parched",
                "=thirsty =all =the =time",
                "=thirsty =and",
                "=raging/terrible/extreme/constant/unquenchable/excessive/awful =thirst",
                "@CANT =stop =drinking !alcohol/wine/beer",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "dehydration / toxicity": vomiting or diarrhoea, can't keep fluids or
    # tablets down, can't swallow, no urine. Helpline now (urgent) when fluids don't stay down,
    # there is no urine, or it is constant; same day for vomiting or diarrhoea alone.
    "dehydration_toxicity": {
        "kind": "clinical",
        "urgent": {
            "patterns": [
                "@CANT keep/=hold ~4 =down",
                "@NOT =keeping ~3 =down",
                "=nothing =stays/staying/stayed/will/is/stay =down/in",
                "=everything ~2 =comes/coming/came/goes/going/went =straight? =back? =up/out",
                "=bring/brings/bringing/brought =everything =back? =up",
                "@CANT ~1 =swallow/swallowing",
                "=difficulty/trouble/problems/problem/pain/painful/hurts/agony/struggling/struggle =swallowing",
                "=hard/difficult/painful/impossible/agony =to =swallow",
                "@CANT ~1 =eat/drink =or/and/nor/n =drink/eat",
                "=not/n't/nt ~1 =eating/eaten/ate =or/and/nor =drinking/drunk/drank/drink",
                "=stopped =eating/drinking =and/or =drinking/eating",
                "=stopped =weeing/peeing/urinating",
                "@NOT =passed/pass/passing/done/had/been/did/do/produced/produce ~5 =urine/wee/wees/pee/pees/"
                "weeing/peeing/water",
                "@NOT =weed/peed/urinated/wee/pee/urinate/pissed",
                "=not/n't/nt =weeing/peeing/urinating",
                "=no =urine/wee/wees/pee/pees",
                "@CANT =wee/pee/urinate/piss",
                "@CANT =pass =water/urine",
                "=hardly/barely/barley =passing/passed/weeing/peeing/wee/pee/urine/weed/peed",
                "vomit/puke/retch/spew =,/-/:? ~3 @CONST",
                "=sick ~3 @CONST !of/and/note/pay/leave/day/days",
                "=throw/throwing/threw/thrown/throws =up ~2 @CONST",
                "@DIARR =,/-/:? ~3 @CONST",
                "keep =being =sick",
                "=on/to/in =the =toilet/loo ~1 =all =night/day/morning",
                "=toilet/loo/bathroom ~2 @FREQ =times/x/time",
                "@NOT ~3 stop =being =sick",
                "@NOT ~3 stop =vomiting/throwing/puking/retching/spewing",
                "@CANT =stop =being/throwing/vomiting/puking/retching",
                "keep =throwing/bringing =up",
                "keep =vomiting/puking/retching",
                "=dehydrated/dehydration",
            ],
        },
        "soon": {
            "patterns": [
                "=vomit/vomiting/vomited/vomits/vomitting/puke/puking/puked/retching/retched/spewing",
                "=throw/throwing/threw/thrown/throws =up !the/a/my/your/his/her/some/all/it/them",
                "=throw/throwing/threw/thrown/throws/bring/bringing/brought =it/everything/them/all/food/water =up",
                "=being/been/was/were/is/be/'s/'m/am/keeps/keep/got/get/getting =sick !of/and/note/pay/leave/day/"
                "days/to/bag/bags/bucket",
                "@DIARR",
                "=d =& =v",
                "=diarrhea/loose/runny/watery =stools/bowels/poo/motions/poos/stool",
                "=the =runs",
                "@NOT ~2 =eaten/drunk/drank/eat/drink/drinking/eating ~4 =days/yesterday/24/48/hours/hrs/two/three/2/3",
                "=not/n't/nt =drinking/drunk/drank =anything/fluids/water/much/at",
                "@CANT =drink ~1 !alcohol/wine/beer/booze/coffee/caffeine/milk/tea/that/it/the/fizzy/on",
                "=dark/brown =urine/wee/pee",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md red flag "collapse / stroke signs": collapsed, unresponsive, face/arm weakness,
    # slurred speech (plus fits). 999. Feeling faint: same day.
    "collapse_stroke": {
        "kind": "clinical",
        "urgent": {
            "patterns": [
                "collapse/=collapsing/collapsed",
                "pass/=passing/passed =out",
                "=past =out",
                "=fainted/fainting/faints/feinted",
                "=had/have/has =a =faint",
                "=black/blacked/blacking/blacks =out",
                "=blackout/blackouts",
                "=unconscious/unresponsive/unrousable/unconcious",
                "@CANT ~1 =wake/rouse/waken/rise",
                "=no =one/body/1 =can/could ~1 =wake/rouse",
                "=nobody/noone/no1 =can/could ~1 =wake/rouse",
                "=wo/will/does/did/would/do =n't/nt/not ~1 =wake/rouse/waken",
                "=not/n't/nt =responding/responsive/rousable/conscious/reacting",
                "=gone/going/went/is/was/'s/s/all/totally =floppy/limp",
                "=face/mouth/smile/lip/eye/eyelid ~3 =droop/drooping/droops/drooped/droopy/dropped/dropping/"
                "fallen/sagging/sagged/lopsided/wonky/slipped/numb/twisted",
                "=droop/drooping/droopy/lopsided/wonky/dropped/drooped/sagging =face/mouth/smile",
                "slur/=slurring/slurred/slurry",
                "=speech/words/talking/voice ~3 =slurred/garbled/jumbled/muddled/funny/strange/weird/wrong",
                "=words ~2 =coming =out =wrong/funny/jumbled/muddled/strange/weird",
                "@CANT =get =my/his/her/the/any/me/their? =words =out",
                "@CANT =speak/talk =properly/clearly/right/straight",
                "=arm/arms/face/side ~3 =weak/numb/dead/floppy/limp/useless/paralysed/paralyzed",
                "=weak/numb/weakness/numbness ~2 =in/down/on ~2 =arm/arms/face/side",
                "=weakness/numbness/weak/numb =down/on =one =side",
                "@CANT =lift/move/raise/feel @POSS? =arm/arms/hand/left/right",
                "=seizure/seizures/convulsion/convulsions/convulsing/convulsed",
                "=fitting !in/it/the/me/you/him/her/everything/around/for/a",
                "@HAVE =a =fit",
                "=had/having/has/have =fits",
                "=stroke/strokes/tia",
                "=fell/fallen/fall ~2 =and ~2 @CANT =get =up",
            ],
        },
        "soon": {
            "patterns": [
                "feel/go/=went/gone/bit/very/really/so/almost/nearly/quite ~1 =faint/fainty/lightheaded/woozy/faintish",
                "=light =- =headed",
                "=light =headed",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md safeguarding: "suicidal thoughts or plans", "hoarding medicines", "better off
    # without me". A person the same hour (urgent); vaguer hopelessness the same day (soon).
    "suicide": {
        "kind": "safeguarding",
        "urgent": {
            "phrases": [
                "kms",
                "kys",
                "unalive",
                "unalive myself",
                "end it all",
                "ending it all",
                "ended it all",
                "better off dead",
                "better off without me",
                "better off without us",
                "nothing to live for",
                "nothing left to live for",
                "nothing worth living for",
                "not worth living",
                "no will to live",
                "lost the will to live",
                "life isn't worth living",
                "life is not worth living",
                "life's not worth living",
                "go to sleep and not wake up",
                "go to sleep and never wake up",
            ],
            "patterns": [
                "want/=wanna/=wan ~1 =to? =die/dead/died",
                "=ready =to =die",
                "wish ~5 =die/dead/died",
                "wish ~2 =was/were/had =n't/nt =here/born/alive/around/been",
                "=end/ending/ended =it/things/everything !was/is/'s/s/said/says/turned/went/came/looked/seemed/"
                "felt/were/will/would/did/does/got/gets/worked/happened/just/up/off/with/there/though/cost/took/"
                "takes/made/makes/comes/goes/ends/might/may/could/should/can/are/get/look/calmed/settled/"
                "improved/changed/ended/for/of/in/on/at/to/i/he/she/we/they/you/all",
                "=rather/sooner ~2 =die/dead",
                "=better =off =if =i/he/she ~3 =gone/dead/died",
                "=better =off =when/once =i ~2 =gone/dead",
                "=better =off =if =i/he/she ~2 =n't/nt/not =here/around/alive/born",
                "kill/end/top/hang/drown/gas/shoot/poison/suffocate/=finish @REFL",
                "=killing/ending/topping/hanging @REFL",
                "=suicide/suicidal/suicidally",
                "=end/ending/ended =my/his/her =life/lives/days",
                "=take/taking/took/taken ~1 =my/his/her =own =life",
                "=take/taking/took =my/his/her =life !back/one/day/in/easy/slowly/as",
                "=no =reason/point/purpose ~1 =to/in? =live/living/life/alive/existing",
                "=no =reason/point/purpose =to/in/of? =go/going/carry/carrying =on !with/holiday/to/about/the",
                "=no =point ~1 =anymore/any",
                "=what =s/'s/is =the =point =anymore/any",
                "=what =s/'s/is =the =point =of/in =living/life/anything/it/going/carrying/trying/fighting/"
                "treatment/me/being/getting/waking",
                "=n't/not/nt =see =the/any =point !of/in/to/with/for/about/coming/going/having/doing/talking/"
                "calling/this/that/ringing/booking",
                "=n't/not/nt =see =the/any =point =of/in =living/life/anything/going/carrying/it/trying/"
                "fighting/treatment/chemo/bothering/being/me/waking/getting",
                "=n't/not/nt =want =to =live/alive/exist",
                "=n't/not/nt =want =to =be =here/alive/around",
                "=n't/not/nt =want =to =wake",
                "=hope/want/wish/rather/prefer ~3 =n't/nt/not/never ~1 =wake",
                "=want/wanna =it =all =to =end/stop/be",
                "=want/wanna/wish ~1 =it =to =be =over/all",
                "=sleep =forever",
                "=never =wake =up !before/until/till/early/late/at/in/when/on",
                "=suicide =note/notes/letter/letters",
                "=goodbye =letter/letters/note/notes/message/messages",
                "=written/writing/wrote/left/leaving ~2 =letter/letters/note/notes ~2 =to/for =my/the =family/kids/"
                "children/husband/wife/partner/daughter/son/everyone",
                "=say/saying/said =goodbye =to =everyone/everybody",
                "=saving/save/saved/stockpiling/stockpile/stockpiled/hoarding/hoard/hoarded/stashing/stash/"
                "stashed ~1 =up? ~2 @MEDS",
                "=storing/store/stored/stocking/stock/building/built =up ~2 @MEDS",
                "@MEDS ~1 =saved/stockpiled/hoarded/stashed/hidden =up/away?",
                "=take/taking/swallow/swallowing/took/neck/down =all ~2 @MEDS !with/before/after/on/as/every/"
                "each/properly/correctly/normally/usually/regularly/daily/when/tomorrow/today/this/morning/"
                "evening/night/in",
                "=take/taking/took/swallowed/swallow =the =lot",
                "=whole =box/bottle/packet/pack/load =of",
                "=take/taking/swallow ~2 =them =all =at =once",
                "=take/taking/took/swallowed/swallow ~2 =too =many @MEDS",
                "=overdose/overdosed/overdosing/od/od'd/oded",
                "=jump/jumping/throw/throwing =off/from/in/under/into =a/the/of? =front/bridge/building/train/roof/"
                "cliff/lorry/bus/motorway/window/balcony",
                "=throw/throwing/threw/chuck @REFL =off/in/under",
            ],
        },
        "soon": {
            "phrases": [
                "can't do this anymore",
                "cant do this anymore",
                "can't do this any more",
                "cant do this any more",
                "can't cope anymore",
                "cant cope anymore",
                "can't cope any more",
                "cant cope any more",
                "tired of living",
                "tired of life",
                "sick of living",
                "had enough of life",
                "had enough of living",
                "given up on life",
                "given up on everything",
                "giving up on life",
                "no hope left",
                "feel like dying",
                "feeling like dying",
            ],
            "patterns": [
                "@CANT =go/carry =on !holiday/holidays/the/a/an/my/that/this/at/to/tomorrow/today/monday/"
                "tuesday/wednesday/thursday/friday/saturday/sunday/any/trip/cruise/plane/flight/foot/public/"
                "transport/bus/train/your/our/his/her/with/about",
                "=want/wanna/ready/going/thinking/feel/like/na =to? =give =up !smoking/drinking/alcohol/"
                "cigarettes/fags/the/my/job/driving/meat/sugar/booze/vaping/on/chocolate/crisps/work",
                "=hopeless/worthless !at/about",
                "=had =enough !of/to/for/with/thanks/thank/food/sleep/now",
                "=had =enough =of =it =all",
                "=had =enough =of =everything/life/living/everyone",
                "=a =burden =to/on",
                "=everyone/everybody ~3 =better =off",
            ],
        },
    },
    # clinical.md safeguarding: self-harm. A person the same hour.
    "self_harm": {
        "kind": "safeguarding",
        "urgent": {
            "phrases": [
                "self harm",
                "self harming",
                "self harmed",
                "self-harm",
                "self-harming",
                "self-harmed",
                "selfharm",
                "selfharming",
                "self injury",
                "self-injury",
                "self injure",
            ],
            "patterns": [
                "cut/burn/hurt/harm/scratch/punish/starve/hit/bang/scald/injure/bruise/=cutting/hurting/"
                "harming/scratching/burning/hitting/banging @REFL",
                "=cutting/cut =again",
                "=scratching/scratch/scratched/picking/pick/picked/cutting/hitting/banging ~4 =till/until ~2 bleed",
                "=cutting/cut/slit/slitting/slashing/slash ~1 =my/his/her =arms/wrists/wrist/arm/legs/thighs",
            ],
        },
    },
    # ---------------------------------------------------------------------------------------------
    # clinical.md safeguarding: abuse or neglect of a child. A person the same hour.
    "child_abuse": {
        "kind": "safeguarding",
        "urgent": {
            "patterns": [
                "@VIOL =the/my/our/his/her/their/your/me? =little/young/youngest/eldest/oldest/baby/two/three? @CHILD",
                "=touch/touches/touched/touching/touchin =the/my/our/his/her/their? @CHILD",
                "@CHILD ~3 =being/been/get/gets/getting/got/are/is/were/was/'re/re ~1 =hurt/hit/abused/beaten/"
                "smacked/slapped/harmed/touched/neglected/starved/kicked/punched/battered/assaulted/hurted/"
                "molested/groomed",
                "@CHILD ~2 @NOT =safe",
                "@CHILD ~3 =scared/afraid/frightened/terrified =of =him/her/them/he/their/my/his/dad/mum/"
                "stepdad/partner",
                "=child/children =abuse/neglect/abused/neglected/cruelty",
                "=neglecting/neglects/neglected/neglect ~2 @CHILD",
                "@CHILD ~2 =left =alone",
                "=baby/babies/toddler/infant/newborn/grandbaby ~3 =bruise/bruises/bruised/bruising/burns/burn/marks/"
                "injuries/injured",
                "@CHILD ~2 =left =on =their/his/her =own",
            ],
        },
    },
    # clinical.md safeguarding: abuse or neglect of an adult at risk (Care Act: physical,
    # neglect, self-neglect, modern slavery...). A person the same day.
    "adult_abuse_neglect": {
        "kind": "safeguarding",
        "soon": {
            "phrases": [
                "no food in the house",
                "nothing to eat in the house",
                "no food in the flat",
                "nobody feeds me",
                "no one feeds me",
                "noone feeds me",
                "self neglect",
                "self-neglect",
                "modern slavery",
                "not been fed",
                "haven't been fed",
                "hasn't been fed",
                "havent been fed",
                "hasnt been fed",
            ],
            "patterns": [
                "@CARER ~3 @VIOL =me/us/him/her/them/mum/dad/nan/gran/grandma/grandad/my/mam",
                "@CARER ~3 =rough/abusive/cruel/nasty/horrible/aggressive/violent/neglect/neglects/neglecting/"
                "neglected/ignores/ignore/ignoring/shouts/shouting/shout/swears/swearing/steal/steals/stole/"
                "stealing/nicking/nicked/pinched/threatens/threatened/threatening/abuse/abuses/abused",
                "@CARER ~3 @NOT ~2 =come/came/coming/turned/turn/turning/feed/fed/feeding/wash/washed/washing/"
                "help/helped/give/gave/change/changed/visit/visited/show/showed/bother",
                "=left ~3 =without/no =food/water/drink/meds/medication/medicine/tablets/heating/help/anything/"
                "care/dinner/lunch/breakfast/money/nothing",
                "=left ~3 =alone/own ~3 =all/for =day/night/week/days/hours/ages/nights",
                "=leave/leaves/leaving/left/keep/keeps ~2 =in ~2 =dirty/soiled/wet/own/mess/urine/poo/faeces/pads/"
                "nappy/nappies",
                "=no/nobody/noone =one? ~2 =fed/feed/feeds/feeding/washed/changed ~1 =me/him/her/dad/mum/us/them",
                "=left/lying/sitting/sat/laying =in ~2 =dirty/soiled/wet/own/mess/urine/poo/faeces/excrement/pee/wee",
                "=locked/locks/lock/locking ~2 =me/him/her/mum/dad/us/nan =in/inside/up/out",
                "=forced/made =to =work",
                "=took/taken/takes/keeps/kept/holding/holds/taking/keeping =my/his/her =passport",
                "=work/working =for =no/nothing/free =money/pay",
                "=not/n't/nt =looking/look/looked =after =himself/herself/myself/themselves",
                "=neglecting/neglected =himself/herself/myself/themselves",
                "=neglected/neglect ~2 =by",
                "=mistreated/mistreating/mistreat/mistreats",
                "=elder/elderly =abuse",
            ],
        },
    },
    # clinical.md safeguarding: domestic abuse - physical, emotional, coercive control (money,
    # phone, friends), threats, fear of going home. Same day; threats to kill and strangulation
    # (the highest-risk signs) the same hour.
    "domestic_abuse": {
        "kind": "safeguarding",
        "urgent": {
            "phrases": [
                "hands round my neck",
                "hands around my neck",
                "hands round my throat",
                "hands around my throat",
            ],
            "patterns": [
                "@PERP ~4 =kill/murder/strangle/strangled/strangles/strangling/choked/chokes/choke/throttled/"
                "throttle/throttles =me/us",
                "=strangle/strangled/strangles/strangling/throttled/throttles/throttle =me",
                "=threatened/threatens/threatening/threaten ~2 =to =kill",
                "=death =threats",
                "threaten/=threatened/threatening ~4 =knife/gun/weapon/blade/hammer/bat",
                "=pulled/held/holding/waved/waving =a/his/her =knife/gun/blade",
                "=rape/raped/raping/rapes/molested/molest/groped/assaulted",
                "=sexually =assaulted/abused/assault",
                "=forced/forces/forcing/makes/made =me =to? =have =sex",
            ],
        },
        "soon": {
            "phrases": [
                "domestic abuse",
                "domestic violence",
                "coercive control",
                "not safe at home",
                "unsafe at home",
                "don't feel safe at home",
                "dont feel safe at home",
                "do not feel safe at home",
            ],
            "patterns": [
                "@PERP ~3 @VIOL =me/us",
                "@PERP ~4 =will/'ll/ll/going/na/would/'d =hurt/harm/hit/beat =me/us",
                "@PERP ~3 threaten",
                "=threatens/threatened/threatening/threaten =me/us",
                "=making =threats",
                "=abuse/abused/abusing/abusive/abuser !of",
                "=violent/violence !vomiting/sickness/diarrhoea/cough/coughing/headache/headaches/pain/shaking/"
                "shivering/shivers/itching",
                "=controlling/coercive !pain/the/my/symptoms/it/nausea/sickness/sugar/diabetes/blood/temperature/"
                "mood/his/her/their/things",
                "=controls/control/controlled =everything =i/we",
                "=scared/afraid/frightened/terrified/petrified/fear =of =him/her/he/them",
                "=scared/afraid/frightened/terrified/petrified/fear =of =my @PERP",
                "=scared/afraid/frightened/terrified/petrified/dread/dreading/dreads/fear =to/of? =go/going =back? "
                "=home",
                "@NOT =feel/feeling/felt? =safe =at/in? =home/here/with",
                "@PARTNER ~3 @NOT =let/lets/letting/allow/allows =me",
                "@NOT =let/lets/allow/allowed =me =leave/out/see/have/go ~2 =house/friends/family/phone/money/mates/"
                "out/flat/anyone",
                "=not =allowed =to =see/visit/contact/meet/phone/call/text/speak/talk ~2 =friends/family/anyone/"
                "mates/mum/dad/sister/brother/daughter/son/people/nobody/them/her/him",
                "=not =allowed =out/to =of? =go/the? =out/house/outside/alone",
                "@PARTNER ~3 take/control/keep/check/read/smash/break/hide/confiscate/steal/monitor/track/go/"
                "=through ~1 @POSS? =phone/mobile/money/card/cards/bank/keys/passport/benefits/pension/wages/"
                "messages/texts/emails/purse/wallet/account/cash",
                "@PARTNER ~3 =stops/stop/stopping/stopped =me =from? =seeing/going/talking/leaving/working/"
                "phoning/visiting/meeting/contacting/having/ringing",
                "@PARTNER ~3 =shouts/shout/shouting/screams/screaming/yells/yelling/swears/swearing =at =me",
                "@PARTNER ~3 =calls/call/calling/called =me =names/useless/stupid/worthless/fat/ugly/pathetic/"
                "disgusting/horrible/vile/bitch/slag/cow/idiot",
                "@PARTNER ~3 =puts/put/putting =me =down",
                "=isolate/isolates/isolated/isolating =me =from",
                "=cut/cuts =me =off =from",
                "=scared/afraid/frightened/terrified/petrified =for =my =life/safety",
            ],
        },
    },
    # clinical.md safeguarding: a carer who cannot cope (carer breakdown puts both the carer and the
    # person cared for at risk). A person the same day. Strain words alone are too common ("at
    # breaking point with this pain"), so these count only in a text about caring: `needs` names a
    # setting in SETTINGS that must be found (not negated) somewhere in the same text.
    "carer_strain": {
        "kind": "safeguarding",
        "needs": "caring",
        "soon": {
            "phrases": [
                "breaking point",
                "end of my tether",
                "end of my rope",
                "end of our tether",
                "end of her tether",
                "end of his tether",
                "on her knees",
                "on his knees",
                "on our knees",
                "end of our rope",
                "on my knees",
                "falling apart",
                "cracking up",
                "going under",
                "hit a wall",
                "at my wits end",
                "at my wit's end",
                "burnt out",
                "burned out",
                "something's got to give",
                "something has got to give",
                "something has to give",
                "somethings got to give",
                "something's going to give",
                "something is going to give",
                "running on empty",
                "can't keep this up",
                "cant keep this up",
                "can't keep doing this",
                "cant keep doing this",
            ],
            "patterns": [
                "@CANT =cope",
                "@CANT =manage/carry/continue/handle/take =it/this/him/her/them/any/anymore/more/on/alone/much/dad/"
                "mum/mam/at",
                "=not/n't/nt =coping/managing",
                "@CANT =lift/move/turn/shift/handle/carry =him/her/them/mum/dad/mam/nan/gran !head/arm/arms/leg/legs/"
                "hand/hands/foot/feet/neck/cup/fork/spoon",
                "@CANT =keep =him/her/them/mum/dad/me ~1 =safe",
                "@CANT =look/care =after/for =him/her/them/mum/dad/mam/either/both",
                "@CANT =go =on =like",
                "=scared/frightened/afraid/terrified/worried ~3 =drop/hurt/harm/hit/snap/lose ~2 =him/her/them/it",
                "=scared/frightened/afraid/terrified ~2 =of =what =i",
                "=do/did ~2 =something =i =regret/'ll",
                "=going/about/na =to? =snap/break/crack",
                "=lose/losing/lost =my =temper/rag =with",
                "=shouted/screamed/yelled/snapped =at =him/her/them/mum/dad",
                "=walk/walking =out",
                "=got/have/'ve/ve/had =nothing =left",
                "@CANT =keep =going/on",
                "@CANT =do =it/this =anymore/any",
                "=ll/'ll/will/ill =snap/crack",
                "=lose/losing =it =with",
                "=at/reached/reaching =the =end !of",
            ],
        },
    },
    # clinical.md safeguarding (Care Act category): financial abuse. A person the same day.
    "financial_abuse": {
        "kind": "safeguarding",
        "soon": {
            "phrases": [
                "financial abuse",
                "financially abused",
                "financially abusing",
                "financial exploitation",
                "financially exploited",
                "financially exploiting",
            ],
            "patterns": [
                "@ANYONE ~3 =take/takes/took/taking/taken/steal/steals/stole/stealing/stolen/nick/nicks/nicked/"
                "nicking/pinch/pinched/pinching/used/using/empty/empties/emptied/emptying/drain/drains/drained/"
                "draining/cleared/withdraw/withdrew/withdrawing/withdrawn/keeps/kept/keeping/withhold/"
                "withholds/withholding/borrowing/borrows ~2 @MONEY",
                "=made/makes/make/making/forced/forcing/forces/force/pressured/pressuring/pressures/pressure/"
                "bullied/bullying/pushing/pushed/pesters/pestering/nagging/nags/conned/tricked/tricking =me =to? "
                "=sign/give/hand/lend/change/transfer/withdraw/pay/buy/send/put/leave/rewrite/alter",
                "@MONEY ~3 =missing/vanished/disappeared/emptied/taken/stolen",
                "=scammed/conned/swindled/defrauded/fleeced/exploited/exploiting",
                "@ANYONE ~3 =steal/steals/stole/stealing/nicks/nicking/robbing/robs/robbed/rob/pinching ~1 =from "
                "=me/us/mum/dad/him/her/my/nan/gran",
                "@NOT ~1 =give/giving/let ~1 =me ~3 @MONEY",
            ],
        },
    },
}

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
_BUT_RESOLVERS = frozenset({("not", "anymore"), ("not", "any", "more"), ("no", "more"), ("stopped",)})
_AT_END_WORDS = frozenset({"now", "again", "today", "thankfully", "completely"})
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

# =====================================================================================================
# The machinery.
# =====================================================================================================

_SEVERITY_RANK = {"urgent": 0, "soon": 1}
_KIND_RANK = {"safeguarding": 0, "clinical": 1}
_INFO_WORDS = frozenset("""who this message messages text texts letter appointment number practice surgery
call review mean means form link email support service sent texting contacting website app booking""".split())
_FIRST_PERSON = frozenset({"i", "'m", "m", "im", "am", "me", "i'm"})
_QUESTION_STARTS = frozenset({"is", "are", "was", "does", "do", "should", "can", "could", "would", "will", "am",
                              "how", "what", "why", "when", "did", "has", "have", "shall"})

# Length-preserving character clean-up (curly quotes to straight, odd spaces to spaces), so that
# character offsets in the cleaned text are the offsets in the original.
_CHAR_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                           "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2013": "-", "\u2014": "-"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_CHUNK = 5000
_CHUNK_OVERLAP = 200

_NUMBER_RE = re.compile(
    r"(?<![\d£$€/:.,])(\d{2,3})(?:[.,](\d{1,2})|\s*(?:point|pt)\s*(\d{1,2}))?(?![\d/:]|[.,]\d)"
    r"(\s*(?:°|º|deg(?:ree)?s?\b|degs?\b)?\s*(?:c\b|f\b|celsius\b|centigrade\b|fahrenheit\b)?)")
_NOT_A_TEMPERATURE_RE = re.compile(
    r"\s*(?:kg|kgs|kilo|kilos|lb|lbs|pounds?|stone|st\b|%|mg|ml|mm|cm|mins?\b|minutes|miles?|years?|yrs?|"
    r"weeks?|wks?|days?|hours?|hrs?|p\b|quid|am\b|pm\b|times|x\b|mmol|bpm|percent|pence|tablets?|pills?)")


class _Screen:
    """The compiled pipeline and patterns. Built once (see _get_screen)."""

    def __init__(self) -> None:
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        self._Doc = Doc
        english = build_english([r"(?<=[0-9])[,!?;&/+](?=[a-z])"],  # "38,chest"
                                expect={"coughing": "cough", "collapsed": "collapse"})
        nlp = english.nlp
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer")
        self._lemma_table = english.lemmas
        self._known = set(english.known)

        self._Matcher = Matcher
        # One Matcher per pattern, run only when the text has every word the pattern requires (found
        # through an index of one required word per pattern, its "anchor"): spaCy tests IN/NOT_IN sets
        # in Python at every token for every pattern, so running all patterns on every text would
        # cost ~0.15 ms a word.
        self.matchers: dict[int, Any] = {}
        self.anchors: dict[tuple[str, str], set[int]] = {}
        self.requirements: dict[int, list[list[frozenset]]] = {}  # per pattern: per sequence, its required words
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.meta: dict[int, tuple[str, str, Optional[Callable], str]] = {}
        self._errors: list[str] = []
        self._vocabulary_words: set[str] = set()
        for category, spec in TRIGGERS.items():
            for severity in ("urgent", "soon"):
                for i, pattern in enumerate(spec.get(severity, {}).get("patterns", [])):
                    self._add_pattern(f"{category}|{severity}|{i}", category, severity, pattern)
                phrases = spec.get(severity, {}).get("phrases", [])
                if phrases:
                    key = f"{category}|{severity}|phrases"
                    self.phrases.add(key, [self._phrase_doc(p) for p in phrases])
                    self.meta[nlp.vocab.strings[key]] = (category, severity, None, "phrase")
        for name, spec in SETTINGS.items():
            for i, pattern in enumerate(spec.get("patterns", [])):
                self._add_pattern(f"setting|{name}|{i}", "setting", name, pattern)
            key = f"setting|{name}|phrases"
            self.phrases.add(key, [self._phrase_doc(p) for p in spec.get("phrases", [])])
            self.meta[nlp.vocab.strings[key]] = ("setting", name, None, "phrase")
        self.phrases.add("idiom", [self._phrase_doc(p) for p in IDIOMS["phrases"]])
        for i, pattern in enumerate(IDIOMS["patterns"]):
            self._add_pattern(f"idiom|{i}", "idiom", "", pattern)
        self.meta[nlp.vocab.strings["idiom"]] = ("idiom", "", None, "phrase")
        if self._errors:  # a word that can never match is a bug in the vocabulary: fail loudly
            raise ValueError("safety vocabulary: " + "; ".join(sorted(set(self._errors))))
        self._known.update(self._vocabulary_words)
        self._known.update(MISSPELLINGS.values())
        self._fuzzy_index = FuzzyIndex(FUZZY_TARGETS)
        self._fuzzy_cache: dict[str, str] = {}

    # ---- compiling the vocabulary --------------------------------------------------------------
    def _phrase_doc(self, phrase: str):
        doc = self._correct(self.nlp.make_doc(phrase.lower().translate(_CHAR_MAP)), fuzzy=False)
        self._vocabulary_words.update(t.lower_ for t in doc)
        return doc

    def _lemma(self, word: str) -> str:
        return self._lemma_table.get(word, word)

    def _single_token(self, word: str, pattern: str) -> str:
        tokens = [t.text for t in self.nlp.make_doc(word)]
        if len(tokens) != 1 and not (word.startswith("'") or word == "n't"):  # clitics stand alone in context
            self._errors.append(f"{word!r} in {pattern!r} is {len(tokens)} tokens {tokens}")
        self._vocabulary_words.add(word)
        return word

    def _token_specs(self, spec: str, pattern: str) -> list[dict]:
        """One item of the pattern syntax -> alternative Matcher token dicts (one per attribute)."""
        if spec.startswith("="):
            words = [self._single_token(w.lstrip("="), pattern) for w in spec[1:].split("/") if w]
            return [{"LOWER": {"IN": sorted(set(words))}}]
        lemmas, lowers = set(), set()
        for w in spec.split("/"):
            if w.startswith("="):
                lowers.add(self._single_token(w[1:], pattern))
            elif w:
                lemmas.add(self._lemma(self._single_token(w, pattern)))
        out = []
        if lemmas:
            out.append({"LEMMA": {"IN": sorted(lemmas)}})
        if lowers:
            out.append({"LOWER": {"IN": sorted(lowers)}})
        return out

    def _expand(self, item: str, pattern: str) -> list[list[dict]]:
        """One item -> alternative token sequences."""
        optional = item.endswith("?") and len(item) > 1
        if optional:
            item = item[:-1]
        if re.fullmatch(r"~\d", item):
            return [[dict(_GAP) for _ in range(int(item[1:]))]]
        if item.startswith("@"):
            cls = CLASSES[item[1:]]
            if isinstance(cls, str):
                alternatives = [[t] for t in self._token_specs(cls, pattern)]
            else:
                alternatives = []
                for seq in cls:
                    alternatives.extend(self._sequence(seq, pattern))
        else:
            alternatives = [[t] for t in self._token_specs(item, pattern)]
        if optional:
            if all(len(a) == 1 for a in alternatives) and len(alternatives) == 1:
                return [[{**alternatives[0][0], "OP": "?"}]]
            alternatives = alternatives + [[]]
        return alternatives

    def _sequence(self, text: str, pattern: str) -> list[list[dict]]:
        sequences: list[list[dict]] = [[]]
        for item in text.split():
            sequences = [s + a for s in sequences for a in self._expand(item, pattern)]
        return sequences

    def _add_pattern(self, key: str, category: str, severity: str, pattern: str) -> None:
        items = pattern.split()
        lookahead = None
        if items[-1].startswith("!"):
            stop_specs = self._token_specs(items.pop()[1:], pattern)
            lemmas = {w for s in stop_specs for w in s.get("LEMMA", {}).get("IN", [])}
            lowers = {w for s in stop_specs for w in s.get("LOWER", {}).get("IN", [])}
            lookahead = _make_lookahead(frozenset(lemmas), frozenset(lowers))
        sequences = self._sequence(" ".join(items), pattern)
        sequences = [s for s in sequences if any(t.get("OP") != "?" for t in s)]
        if not sequences or len(sequences) > 400:
            raise ValueError(f"safety vocabulary: pattern {pattern!r} expands to {len(sequences)} sequences")
        key_id = self.nlp.vocab.strings.add(key)
        matcher = self._Matcher(self.nlp.vocab)
        matcher.add(key, sequences)
        self.matchers[key_id] = matcher
        for sequence in sequences:
            for anchor in _anchor(sequence):
                self.anchors.setdefault(anchor, set()).add(key_id)
        self.requirements[key_id] = [_required(sequence) for sequence in sequences]
        self.meta[key_id] = (category, severity, lookahead, pattern)

    # ---- spelling --------------------------------------------------------------------------------
    def _fix_word(self, word: str, fuzzy: bool = True) -> str:
        fixed = MISSPELLINGS.get(word)
        if fixed is not None:
            return fixed
        if not fuzzy or len(word) < 5 or not word.isalpha() or word in self._known or word in self._lemma_table:
            return word
        if word not in self._fuzzy_cache:
            if len(self._fuzzy_cache) > 50000:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[word] = self._fuzzy_index.lookup(word) or word
        return self._fuzzy_cache[word]

    def _correct(self, doc, fuzzy: bool = True):
        words = [self._fix_word(t.lower_, fuzzy) for t in doc]
        if all(w == t.lower_ for w, t in zip(words, doc)):
            return self.lemmatizer(doc)
        fixed = self._Doc(self.nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
        return self.lemmatizer(fixed)

    # ---- screening -------------------------------------------------------------------------------
    def screen(self, text: str) -> Optional[Flag]:
        if len(text) > _MAX_CHUNK:
            chunks = [self._screen_chunk(text[i:i + _MAX_CHUNK], text, i)
                      for i in range(0, len(text), _MAX_CHUNK - _CHUNK_OVERLAP)]
            flags = [f for f in chunks if f is not None]
            return min(flags, key=_rank) if flags else None
        return self._screen_chunk(text, text, 0)

    def _screen_chunk(self, chunk: str, original: str, offset: int) -> Optional[Flag]:
        chunk = _SURROGATE.sub("\ufffd", chunk.translate(_CHAR_MAP))  # lone surrogates can't be encoded
        cleaned = "".join(c if len(c.lower()) != 1 else c.lower() for c in chunk)
        raw = self.nlp.make_doc(cleaned)   # token offsets into the original text
        doc = self._correct(raw)           # same tokens, misspellings fixed, lemmas set
        n = len(doc)

        present = {("LEMMA", t.lemma_) for t in doc} | {("LOWER", t.lower_) for t in doc}
        anchored: set[int] = set().union(*(self.anchors.get(value, ()) for value in present))
        candidates = [key_id for key_id in anchored
                      if any(all(r & present for r in seq) for seq in self.requirements[key_id])]
        matches = [(self.meta[key], start, end) for key_id in sorted(candidates)
                   for key, start, end in self.matchers[key_id](doc)]
        matches += [(self.meta[key], start, end) for key, start, end in self.phrases(doc)]
        idioms = [(s, e) for (cat, _, _, _), s, e in matches if cat == "idiom"]

        # Settings found (not negated): "not a young carer" is no caring setting. A setting's
        # "severity" slot holds its name.
        settings: dict[str, list[tuple[int, int]]] = {}
        for (category, name, _, _), start, end in matches:
            if category == "setting" and not _negated_before(doc, start, end):
                settings.setdefault(name, []).append((start, end))

        readings = _temperatures(cleaned, raw, doc)
        hits: list[tuple[str, str, int, int]] = []   # category, severity, first token, end token
        for (category, severity, lookahead, _source), start, end in matches:
            if category in ("idiom", "setting"):
                continue
            if TRIGGERS[category].get("needs") and TRIGGERS[category]["needs"] not in settings:
                continue
            if lookahead is not None and end < n and lookahead(doc[end]):
                continue
            if any(s < end and start < e for s, e in idioms):
                continue
            kind = TRIGGERS[category]["kind"]
            if _negated_before(doc, start, end) or (kind == "clinical" and _resolved_after(doc, end)):
                continue
            if category == "hypercalcaemia" and _info_confusion(doc, start, end):
                continue
            hits.append((category, severity, start, end))

        normal = [(s, e) for s, e, value, needs_context in readings if 36.0 <= value < 37.5 and not needs_context]
        hits = [h for h in hits if not (h[0] == "neutropenic_sepsis" and _followed_by_normal(doc, h[3], normal))]
        for s, e, value, needs_context in readings:
            if (value >= 37.5 or value < 36.0) and not needs_context:
                hits.append(("neutropenic_sepsis", "soon", s, e))
        if hits:  # events told as past and over, fevers explained by a vaccine, "mum would kill me"
            context = safety_context.analyse(doc, readings, TREATMENT_CONTEXT)
            hits = [h for h in hits if safety_context.dismissal(context, h[0], TRIGGERS[h[0]]["kind"], h[2], h[3])
                    is None]
        if not hits:
            return None

        treatment = [t.i for t in doc if t.lower_ in TREATMENT_CONTEXT or t.lemma_ in TREATMENT_CONTEXT]
        by_category: dict[str, list[tuple[str, int, int]]] = {}
        for category, severity, s, e in hits:
            by_category.setdefault(category, []).append((severity, s, e))
        flags = []
        for category, found in by_category.items():
            severity = min((sev for sev, _, _ in found), key=_SEVERITY_RANK.__getitem__)
            spans = [(s, e) for _, s, e in found]
            if category == "neutropenic_sepsis" and treatment:
                severity = "urgent"
                spans += [(i, i + 1) for i in treatment]
            if TRIGGERS[category].get("needs"):   # the evidence shows why the trigger counted
                spans += settings[TRIGGERS[category]["needs"]][:1]
            evidence = _evidence(raw, spans, original, offset)
            flags.append(Flag(TRIGGERS[category]["kind"], severity, category, evidence))
        return min(flags, key=_rank)


_GAP = {"IS_PUNCT": False, "IS_SPACE": False,
        "LOWER": {"NOT_IN": sorted(CLAUSE_BREAKERS | NEGATION_CUES | {"\n"})}, "OP": "?"}


# Words too common to be a good anchor (see _anchor).
_COMMON_WORDS = frozenset("""
i me my you he she it we they him her his their our the a an to of in on at for with and or but is 's s be
am 'm m are 're was were been being have has had 've ve do does did can ca could not n't nt no will 'll
would 'd get got go went gone so up out all any some this that just really very feel keep take
""".split())


def _required(sequence: list[dict]) -> list[frozenset]:
    """For each required token of a pattern, the words it accepts (each must be in the text)."""
    out = []
    for token in sequence:
        if token.get("OP") == "?":
            continue
        for attr in ("LEMMA", "LOWER"):
            values = token.get(attr, {}).get("IN") if isinstance(token.get(attr), dict) else None
            if values:
                out.append(frozenset((attr, v) for v in values))
    return out


def _anchor(sequence: list[dict]) -> list[tuple[str, str]]:
    """The values of one required token of a pattern (the one with the fewest): a text without any
    of them cannot match the pattern."""
    best: Optional[list[tuple[str, str]]] = None
    best_score: tuple = ()
    for token in sequence:
        if token.get("OP") == "?":
            continue
        for attr in ("LEMMA", "LOWER"):
            values = token.get(attr, {}).get("IN") if isinstance(token.get(attr), dict) else None
            if not values:
                continue
            score = (sum(v in _COMMON_WORDS for v in values), len(values))
            if best is None or score < best_score:
                best, best_score = [(attr, v) for v in values], score
    if best is None:
        raise ValueError(f"safety vocabulary: a pattern has no required word: {sequence}")
    return best


def _make_lookahead(lemmas: frozenset, lowers: frozenset) -> Callable:
    def stops(token) -> bool:
        return token.lower_ in lowers or token.lemma_ in lemmas
    return stops


def _rank(flag: Flag) -> tuple:
    order = CATEGORY_ORDER.index(flag.category) if flag.category in CATEGORY_ORDER else len(CATEGORY_ORDER)
    kind = len(_KIND_RANK) if flag.category in YIELDS_TO_CLINICAL else _KIND_RANK[flag.kind]
    return _SEVERITY_RANK[flag.severity], kind, order


def _is_boundary(token) -> bool:
    return (token.is_punct or token.is_space or token.lower_ in CLAUSE_BREAKERS
            or not any(ch.isalnum() for ch in token.text))


def _has_negation(tokens: Iterable) -> bool:
    return any(t.lower_ in NEGATION_CUES for t in tokens)


def _negated_before(doc, start: int, end: int) -> bool:
    """A negation cue shortly before the trigger, with only fillers between, in the same clause.
    "no chest pain or breathlessness": after "or"/"nor", up to 3 words of the item before it are
    skipped, so the cue before that item negates this one too."""
    if _has_negation(doc[start:end]):
        return False  # the negation is part of the trigger: "can't breathe", "not passed urine"
    between: list = []
    skipped = 0
    i = start - 1
    while i >= 0 and start - i - skipped <= NEGATION_WINDOW:
        token = doc[i]
        if _is_boundary(token):
            return False
        word = token.lower_
        if word in NEGATION_CUES:
            fillers = NEGATION_FILLERS
            if word == "no":
                following = between[0].lower_ if between else ""
                fillers = NEGATION_FILLERS if following in ("longer", "more") else NO_FILLERS
            return all(t.lower_ in fillers or _thinking_to(doc, t.i) for t in between)
        if word not in NEGATION_FILLERS and not _thinking_to(doc, i):
            # the previous item of a list: "no [sickness] or diarrhoea"
            if between and between[0].lower_ in ("or", "nor") and skipped < 3 and word not in _NOT_LIST_ITEMS:
                skipped += 1
                i -= 1
                continue
            return False
        between.insert(0, token)
        i -= 1
    return False


def _thinking_to(doc, i: int) -> bool:
    """ "to" after "thinking"/"thought" is a filler: "not thinking to hurt myself"."""
    return doc[i].lower_ == "to" and i > 0 and doc[i - 1].lower_ in ("thinking", "thought")


# Words that cannot be part of a listed item, so "no I have diarrhoea or sickness" is not negated.
_NOT_LIST_ITEMS = frozenset("i he she we they you it have has had 've 's am 'm is are was were been be got get "
                            "feel felt keep keeps kept can ca could will would yes".split())


def _clause_end(doc, i: int) -> int:
    while i < len(doc) and not (_is_boundary(doc[i]) and doc[i].lower_ != "but"):
        i += 1
    return i


def _resolved_after(doc, end: int) -> bool:
    """A resolving word right after a clinical trigger: "temperature is normal", "bleeding stopped",
    "was being sick but not any more". Never in a question: "is coughing up blood normal?"."""
    n = len(doc)
    i = end
    while i < n and i - end <= 4:
        word = doc[i].lower_
        after_but = i > end and doc[i - 1].lower_ == "but"
        for resolver in POST_RESOLVERS:
            k = len(resolver)
            if tuple(t.lower_ for t in doc[i:i + k]) != resolver:
                continue
            if after_but and resolver not in _BUT_RESOLVERS:
                continue
            after = i + k
            at_end = after >= n or _is_boundary(doc[after]) or doc[after].lower_ in _AT_END_WORDS
            if (resolver in POST_RESOLVERS_AT_END or after_but) and not at_end:
                continue
            return not _is_question(doc, end, after)
        if word == "but" and i == end:
            i += 1
            continue
        if word in NEGATION_CUES or word not in POST_FILLERS or _is_boundary(doc[i]):
            return False
        i += 1
    return False


def _is_question(doc, inside: int, after: int) -> bool:
    """The clause around a position ends with "?" or starts like a question."""
    end = _clause_end(doc, after)
    if end < len(doc) and "?" in doc[end].text:
        return True
    i = inside - 1
    while i >= 0 and not _is_boundary(doc[i]):
        i -= 1
    return i + 1 < len(doc) and doc[i + 1].lower_ in _QUESTION_STARTS


def _info_confusion(doc, start: int, end: int) -> bool:
    """ "I'm confused, who is this?" is about our message, not a symptom."""
    before = {t.lower_ for t in doc[max(0, start - 3):start]}
    if not before & _FIRST_PERSON:
        return False
    words = {t.lower_ for t in doc}
    return (bool(words & _INFO_WORDS) and "?" in doc.text) or bool(words & {"message", "text", "letter"})


def _temperatures(cleaned: str, raw, doc) -> list[tuple[int, int, float, bool]]:
    """Temperature readings: (first token, end token, degrees C, needs a temperature word but has none).
    `raw` has the character offsets of `cleaned`; `doc` has the same tokens, spelling corrected."""
    out = []
    for m in _NUMBER_RE.finditer(cleaned):
        whole, decimal = m.group(1), m.group(2) or m.group(3)
        value = float(f"{whole}.{decimal}" if decimal else whole)
        unit = (m.group(4) or "").strip()
        number_end = m.end(2) if m.group(2) else m.end(3) if m.group(3) else m.end(1)
        if not unit and _NOT_A_TEMPERATURE_RE.match(cleaned, number_end):
            continue
        span = raw.char_span(m.start(), m.end(4) if unit else number_end, alignment_mode="expand")
        if span is None:
            continue
        if "f" in unit or (95 <= value <= 110 and unit):
            if not 90 <= value <= 112:
                continue
            value = (value - 32) * 5 / 9
        if not 30 <= value <= 45:
            continue
        glued = re.search(r"[a-z]+$", cleaned[max(0, m.start() - 12):m.start()])  # "temp38"
        glued_word = bool(glued and glued.group().startswith(("temp", "fever", "thermo")))
        has_context = bool(unit) or _near_temperature_word(doc, span.start, span.end) or glued_word
        if value < 36.0:   # a low reading needs a body-temperature word: not "30 degrees out", "at 34" near "hot"
            has_context = glued_word or (bool(unit) and value >= 35.0) or \
                _near_temperature_word(doc, span.start, span.end, words=BODY_TEMPERATURE_CONTEXT)
        # "37.8" on its own is a temperature; "38" only next to a temperature word
        plain_decimal = decimal is not None and len(decimal) == 1
        needs_context = not has_context and not (value >= 37.5 and plain_decimal)
        out.append((span.start, span.end, value, needs_context))
    return out


def _near_temperature_word(doc, start: int, end: int, window: int = 8,
                           words: frozenset = TEMPERATURE_CONTEXT) -> bool:
    """A temperature word within `window` words either side, in the same sentence."""
    before = range(start - 1, max(-1, start - window - 1), -1)
    after = range(end, min(len(doc), end + window))
    for side in (before, after):
        for i in side:
            token = doc[i]
            if token.text in (".", "!", "?", ";") or "\n" in token.text:
                break
            if token.lower_ in words or token.lemma_ in words:
                return True
    return False


def _followed_by_normal(doc, end: int, normal: list[tuple[int, int]]) -> bool:
    for s, _ in normal:
        if end <= s <= end + 4 and not any(_is_boundary(t) for t in doc[end:s]):
            return True
    return False


def _evidence(raw, spans: list[tuple[int, int]], original: str, offset: int) -> tuple[str, ...]:
    """The original words of the matched token spans (overlapping spans merged), in text order."""
    chosen: list[list[int]] = []
    for s, e in sorted(set(spans)):
        if chosen and s < chosen[-1][1]:
            chosen[-1][1] = max(chosen[-1][1], e)
        else:
            chosen.append([s, e])
    out: list[str] = []
    for s, e in chosen:
        start_char = offset + raw[s].idx
        end_char = offset + raw[e - 1].idx + len(raw[e - 1].text)
        # whole words: "dont see the point", not "nt see the point"
        while start_char > 0 and (original[start_char - 1].isalnum() or original[start_char - 1] in "'’"):
            start_char -= 1
        while end_char < len(original) and (original[end_char].isalnum() or original[end_char] in "'’"):
            end_char += 1
        words = original[start_char:end_char].strip()
        if words and words not in out:
            out.append(words)
    return tuple(out)


# ---- the public interface -----------------------------------------------------------------------------
_SINGLETON: Optional[_Screen] = None
_LOCK = threading.Lock()


def _get_screen() -> _Screen:
    global _SINGLETON
    if _SINGLETON is None:
        with _LOCK:
            if _SINGLETON is None:
                _SINGLETON = _Screen()
    return _SINGLETON


def warm_up() -> None:
    """Build the pipeline now (at service start) rather than on the first text; raises if it can't."""
    _get_screen()


def _screen(text: str) -> Optional[Flag]:
    """The screen itself; may raise on a bug. `screen` is the never-raising public entry point."""
    if not isinstance(text, str):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        else:
            text = "" if text is None else str(text)
    if not text.strip():
        return None
    return _get_screen().screen(text)


def screen(text: str) -> Optional[Flag]:
    """The most serious red flag or safeguarding trigger in one inbound text, or None.

    Never raises: if the screen itself fails, the text gets a "screen_error" flag so a person reads it.
    """
    try:
        return _screen(text)
    except Exception:  # a broken screen must fail safe: a person reads the text
        log.exception("the safety screen failed; flagging the text for a person to read")
        return Flag("clinical", "soon", "screen_error", ())
