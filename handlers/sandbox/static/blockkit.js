// blockkit.js: a Block Kit renderer for the coordbot sandbox (see the sandbox contract).
//
// Pure: Block Kit JSON in, DOM out; no fetch, no globals, no dependencies. It never uses innerHTML: every string
// that comes from a message or a view is put into the page with textContent or as an attribute value, so text such
// as "<script>" or "<img onerror=…>" shows as text and never runs. Links only get http(s)/mailto/tel hrefs and
// images only http(s)/data:image sources.

// ---------------------------------------------------------------------------------------------------------------
// Emoji: the Slack short names people and bots use most. "name char" pairs, whitespace separated.
// ---------------------------------------------------------------------------------------------------------------

const EMOJI_PAIRS = `
white_check_mark ✅ heavy_check_mark ✔️ ballot_box_with_check ☑️ x ❌ negative_squared_cross_mark ❎
heavy_multiplication_x ✖️ warning ⚠️ no_entry ⛔ no_entry_sign 🚫 exclamation ❗ heavy_exclamation_mark ❗
grey_exclamation ❕ question ❓ grey_question ❔ bangbang ‼️ interrobang ⁉️ sos 🆘 information_source ℹ️ ok 🆗
new 🆕 up 🆙 cool 🆒 free 🆓 vs 🆚 abc 🔤 1234 🔢 heavy_plus_sign ➕ heavy_minus_sign ➖ heavy_division_sign ➗
repeat 🔁 arrows_counterclockwise 🔄 arrows_clockwise 🔃 recycle ♻️ 100 💯 beginner 🔰 children_crossing 🚸
red_circle 🔴 large_blue_circle 🔵 blue_circle 🔵 large_green_circle 🟢 green_circle 🟢 large_yellow_circle 🟡
yellow_circle 🟡 large_orange_circle 🟠 orange_circle 🟠 large_purple_circle 🟣 purple_circle 🟣
large_brown_circle 🟤 white_circle ⚪ black_circle ⚫ radio_button 🔘 large_red_square 🟥 large_green_square 🟩
large_yellow_square 🟨 large_blue_square 🟦 large_orange_square 🟧 white_large_square ⬜ black_large_square ⬛
white_square_button 🔳 black_square_button 🔲 small_blue_diamond 🔹 small_orange_diamond 🔸
large_blue_diamond 🔷 large_orange_diamond 🔶 small_red_triangle 🔺 small_red_triangle_down 🔻
arrow_right ➡️ arrow_left ⬅️ arrow_up ⬆️ arrow_down ⬇️ arrow_upper_right ↗️ arrow_lower_right ↘️
arrow_upper_left ↖️ arrow_lower_left ↙️ left_right_arrow ↔️ arrow_up_down ↕️ arrow_forward ▶️ arrow_backward ◀️
leftwards_arrow_with_hook ↩️ arrow_right_hook ↪️ arrow_heading_up ⤴️ arrow_heading_down ⤵️ fast_forward ⏩
rewind ⏪ twisted_rightwards_arrows 🔀 back 🔙 soon 🔜 end 🔚 top 🔝 on 🔛 double_vertical_bar ⏸️
black_square_for_stop ⏹️ black_circle_for_record ⏺️ eject ⏏️
pushpin 📌 round_pushpin 📍 paperclip 📎 link 🔗 lock 🔒 unlock 🔓 closed_lock_with_key 🔐 lock_with_ink_pen 🔏
key 🔑 old_key 🗝️ mag 🔍 mag_right 🔎 bulb 💡 memo 📝 pencil 📝 pencil2 ✏️ clipboard 📋 bar_chart 📊
chart_with_upwards_trend 📈 chart_with_downwards_trend 📉 chart 💹 calendar 📆 date 📅 spiral_calendar_pad 🗓️
spiral_calendar 🗓️ spiral_note_pad 🗒️ card_index 📇 card_file_box 🗃️ file_cabinet 🗄️ file_folder 📁
open_file_folder 📂 card_index_dividers 🗂️ page_facing_up 📄 page_with_curl 📃 scroll 📜 bookmark_tabs 📑
bookmark 🔖 label 🏷️ books 📚 book 📖 open_book 📖 notebook 📓 ledger 📒 newspaper 📰 rolled_up_newspaper 🗞️
inbox_tray 📥 outbox_tray 📤 package 📦 email ✉️ envelope ✉️ incoming_envelope 📨 envelope_with_arrow 📩
e-mail 📧 mailbox 📫 mailbox_with_mail 📬 mailbox_with_no_mail 📭 postbox 📮 wastebasket 🗑️ straight_ruler 📏
triangular_ruler 📐 scissors ✂️ lower_left_ballpoint_pen 🖊️ lower_left_fountain_pen 🖋️ crayon 🖍️
paintbrush 🖌️ pen 🖊️ telephone_receiver 📞 phone ☎️ telephone ☎️ iphone 📱 calling 📲 computer 💻
desktop_computer 🖥️ keyboard ⌨️ printer 🖨️ floppy_disk 💾 cd 💿 dvd 📀 camera 📷 movie_camera 🎥 tv 📺
video_camera 📹 loudspeaker 📢 mega 📣 loud_sound 🔊 sound 🔉 speaker 🔈 mute 🔇 bell 🔔 no_bell 🔕
alarm_clock ⏰ stopwatch ⏱️ timer_clock ⏲️ mantelpiece_clock 🕰️ hourglass ⌛ hourglass_flowing_sand ⏳
watch ⌚ clock9 🕘 clock12 🕛 clock3 🕒 clock6 🕕 construction 🚧 rotating_light 🚨 wrench 🔧 hammer 🔨
hammer_and_wrench 🛠️ hammer_and_pick ⚒️ pick ⛏️ gear ⚙️ nut_and_bolt 🔩 toolbox 🧰 shield 🛡️ scales ⚖️
link2 🔗 magnet 🧲 test_tube 🧪 microscope 🔬 telescope 🔭 satellite 📡 satellite_antenna 📡 battery 🔋
electric_plug 🔌 flashlight 🔦 candle 🕯️ bomb 💣 crossed_swords ⚔️ dagger_knife 🗡️ thermometer 🌡️ broom 🧹
basket 🧺 receipt 🧾 abacus 🧮 compass 🧭 world_map 🗺️ pill 💊 syringe 💉 dna 🧬 moneybag 💰 dollar 💵
money_with_wings 💸 credit_card 💳 heavy_dollar_sign 💲 gem 💎 briefcase 💼 school_satchel 🎒 mortar_board 🎓
ticket 🎫 admission_tickets 🎟️ necktie 👔 eyeglasses 👓 crown 👑 ring 💍 gift 🎁 balloon 🎈 tada 🎉
confetti_ball 🎊 trophy 🏆 sports_medal 🏅 medal 🏅 first_place_medal 🥇 second_place_medal 🥈
third_place_medal 🥉 dart 🎯 triangular_flag_on_post 🚩 checkered_flag 🏁 white_flag 🏳️ waving_white_flag 🏳️
black_flag 🏴 waving_black_flag 🏴 crossed_flags 🎌 jigsaw 🧩 game_die 🎲 video_game 🎮 art 🎨
performing_arts 🎭 musical_note 🎵 notes 🎶 headphones 🎧 microphone 🎤 soccer ⚽ basketball 🏀 football 🏈
tennis 🎾 golf ⛳ copyright ©️ registered ®️ tm ™️ hash #️⃣ zero 0️⃣ one 1️⃣ two 2️⃣ three 3️⃣ four 4️⃣
five 5️⃣ six 6️⃣ seven 7️⃣ eight 8️⃣ nine 9️⃣ keycap_ten 🔟
speech_balloon 💬 thought_balloon 💭 left_speech_bubble 🗨️ right_anger_bubble 🗯️ busts_in_silhouette 👥
bust_in_silhouette 👤 speaking_head_in_silhouette 🗣️ speaking_head 🗣️ eyes 👀 eye 👁️ brain 🧠 zzz 💤
sweat_drops 💦 dash 💨 sparkles ✨ star ⭐ star2 🌟 dizzy 💫 boom 💥 collision 💥 fire 🔥 zap ⚡ snowflake ❄️
sunny ☀️ cloud ☁️ partly_sunny ⛅ umbrella ☔ rainbow 🌈 crescent_moon 🌙 moon 🌔 earth_asia 🌏
earth_americas 🌎 earth_africa 🌍 globe_with_meridians 🌐 ocean 🌊 volcano 🌋 seedling 🌱 herb 🌿
four_leaf_clover 🍀 cactus 🌵 evergreen_tree 🌲 deciduous_tree 🌳 palm_tree 🌴 sunflower 🌻 rose 🌹
tulip 🌷 cherry_blossom 🌸 bouquet 💐 maple_leaf 🍁 fallen_leaf 🍂 mushroom 🍄
heart ❤️ orange_heart 🧡 yellow_heart 💛 green_heart 💚 blue_heart 💙 purple_heart 💜 black_heart 🖤
white_heart 🤍 brown_heart 🤎 broken_heart 💔 sparkling_heart 💖 heartpulse 💗 heartbeat 💓 two_hearts 💕
revolving_hearts 💞 gift_heart 💝 heavy_heart_exclamation_mark_ornament ❣️
+1 👍 thumbsup 👍 -1 👎 thumbsdown 👎 ok_hand 👌 wave 👋 clap 👏 raised_hands 🙌 pray 🙏 muscle 💪
point_right 👉 point_left 👈 point_up ☝️ point_up_2 👆 point_down 👇 raised_hand ✋ hand ✋ v ✌️
crossed_fingers 🤞 hand_with_index_and_middle_fingers_crossed 🤞 handshake 🤝 writing_hand ✍️ call_me_hand 🤙
fist ✊ facepunch 👊 punch 👊 open_hands 👐 raised_back_of_hand 🤚 palms_up_together 🤲 the_horns 🤘
sign_of_the_horns 🤘 i_love_you_hand_sign 🤟 pinching_hand 🤏 selfie 🤳 nail_care 💅
ok_woman 🙆 no_good 🙅 raising_hand 🙋 information_desk_person 💁 shrug 🤷 person_frowning 🙍 bow 🙇
face_palm 🤦 facepalm 🤦 dancer 💃 man_dancing 🕺 runner 🏃 running 🏃 walking 🚶 man 👨 woman 👩 boy 👦
girl 👧 baby 👶 older_man 👴 older_woman 👵 cop 👮 sleuth_or_spy 🕵️ construction_worker 👷 santa 🎅
angel 👼 ninja 🥷 superhero 🦸 technologist 🧑‍💻 male-technologist 👨‍💻 female-technologist 👩‍💻
smile 😄 smiley 😃 grinning 😀 grin 😁 laughing 😆 satisfied 😆 joy 😂 rolling_on_the_floor_laughing 🤣 rofl 🤣
sweat_smile 😅 slightly_smiling_face 🙂 upside_down_face 🙃 wink 😉 blush 😊 innocent 😇 heart_eyes 😍
star-struck 🤩 kissing_heart 😘 yum 😋 stuck_out_tongue 😛 stuck_out_tongue_winking_eye 😜 zany_face 🤪
money_mouth_face 🤑 thinking_face 🤔 face_with_raised_eyebrow 🤨 neutral_face 😐 expressionless 😑
no_mouth 😶 smirk 😏 unamused 😒 face_with_rolling_eyes 🙄 grimacing 😬 lying_face 🤥 relieved 😌
pensive 😔 sleepy 😪 sleeping 😴 drooling_face 🤤 mask 😷 face_with_thermometer 🤒 nauseated_face 🤢
face_vomiting 🤮 sneezing_face 🤧 hot_face 🥵 cold_face 🥶 woozy_face 🥴 dizzy_face 😵 cowboy_hat_face 🤠
nerd_face 🤓 sunglasses 😎 monocle_face 🧐 confused 😕 worried 😟 slightly_frowning_face 🙁
white_frowning_face ☹️ open_mouth 😮 hushed 😯 astonished 😲 flushed 😳 pleading_face 🥺 frowning 😦
anguished 😧 fearful 😨 cold_sweat 😰 disappointed_relieved 😥 cry 😢 sob 😭 scream 😱 confounded 😖
persevere 😣 disappointed 😞 sweat 😓 weary 😩 tired_face 😫 yawning_face 🥱 triumph 😤 rage 😡 angry 😠
face_with_symbols_on_mouth 🤬 exploding_head 🤯 partying_face 🥳 hugging_face 🤗 hugs 🤗 shushing_face 🤫
face_with_hand_over_mouth 🤭 zipper_mouth_face 🤐 smiling_imp 😈 skull 💀 ghost 👻 alien 👽 robot_face 🤖
hankey 💩 poop 💩 see_no_evil 🙈 hear_no_evil 🙉 speak_no_evil 🙊 smile_cat 😸 cat 🐱 dog 🐶 tiger 🐯
panda_face 🐼 unicorn_face 🦄 bee 🐝 honeybee 🐝 bug 🐛 snail 🐌 turtle 🐢 rabbit 🐰 chicken 🐔 penguin 🐧
owl 🦉 monkey 🐒 monkey_face 🐵 octopus 🐙 whale 🐳 dolphin 🐬 fish 🐟 crab 🦀 snake 🐍 sloth 🦥
coffee ☕ tea 🍵 beer 🍺 beers 🍻 wine_glass 🍷 clinking_glasses 🥂 pizza 🍕 hamburger 🍔 fries 🍟 cake 🍰
birthday 🎂 apple 🍎 green_apple 🍏 banana 🍌 doughnut 🍩 cookie 🍪 popcorn 🍿 bento 🍱 ramen 🍜 rice 🍚
sushi 🍣 dumpling 🥟 taco 🌮 burrito 🌯 bread 🍞 croissant 🥐 ice_cream 🍨 lollipop 🍭 chocolate_bar 🍫
rocket 🚀 airplane ✈️ car 🚗 red_car 🚗 taxi 🚕 bus 🚌 bike 🚲 ship 🚢 boat ⛵ sailboat ⛵ train2 🚆
bullettrain_side 🚄 metro 🚇 house 🏠 house_with_garden 🏡 office 🏢 hospital 🏥 school 🏫 bank 🏦
factory 🏭 stadium 🏟️ tent ⛺ classical_building 🏛️ vertical_traffic_light 🚦 fuelpump ⛽ anchor ⚓
`;

const EMOJI = new Map();
{
  const words = EMOJI_PAIRS.trim().split(/\s+/);
  for (let i = 0; i + 1 < words.length; i += 2) EMOJI.set(words[i], words[i + 1]);
}

/** "white_check_mark" (or ":white_check_mark:") -> "✅"; an unknown name -> ":name:". Skin tones are dropped. */
export function emoji(name) {
  const bare = String(name ?? "").replace(/^:|:$/g, "");
  const key = bare.replace(/::skin-tone-\d$/, "").toLowerCase();
  return EMOJI.get(key) ?? `:${bare}:`;
}

// ---------------------------------------------------------------------------------------------------------------
// Small DOM helpers
// ---------------------------------------------------------------------------------------------------------------

let idSeq = 0;
const uid = (what) => `bk-${what}-${++idSeq}`;

/** Create an element. attrs: class, text (textContent), on<event> listeners, everything else setAttribute. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

const SAFE_HREF = /^(https?:|mailto:|tel:)/i;
const SAFE_SRC = /^(https?:|data:image\/)/i;

function safeHref(url) {
  const s = String(url ?? "").trim();
  return SAFE_HREF.test(s) ? s : null;
}

function link(url, label) {
  const href = safeHref(url);
  if (!href) return h("span", { class: "bk-link-text" }, label);
  return h("a", { class: "bk-link", href, target: "_blank", rel: "noopener noreferrer" }, label);
}

function openUrl(url) {
  const href = safeHref(url);
  if (href) window.open(href, "_blank", "noopener,noreferrer");
}

/** The bot escapes &, < and > in user text (as Slack requires); show them as the characters. One pass, so
 *  "&amp;lt;" stays "&lt;". */
function decodeEntities(s) {
  return String(s).replace(/&(amp|lt|gt);/g, (_, name) => ({ amp: "&", lt: "<", gt: ">" })[name]);
}

const SHORTCODE = /:([a-z0-9_+'-]+)(?:::skin-tone-[2-6])?:/gi;

function replaceShortcodes(s) {
  return s.replace(SHORTCODE, (whole, name) => (EMOJI.has(name.toLowerCase()) ? EMOJI.get(name.toLowerCase()) : whole));
}

// Workspace lookups: ctx.users / ctx.channels may be keyed by id (contract) or be the state's arrays.
const byIdCache = new WeakMap();
function byId(collection) {
  if (!collection) return {};
  if (!Array.isArray(collection)) return collection;
  let map = byIdCache.get(collection);
  if (!map) {
    map = Object.fromEntries(collection.filter((x) => x && x.id).map((x) => [x.id, x]));
    byIdCache.set(collection, map);
  }
  return map;
}

function userRecord(ctx, id) {
  return byId(ctx?.users)[id];
}

/** How a mention shows: the display name, else the real name, else the handle, else what we were given. */
function userName(ctx, id, fallback) {
  const u = userRecord(ctx, id);
  return u?.display_name || u?.real_name || u?.name || fallback || id;
}

/** How a person shows in a picker: the full name first, as Slack's menus do. */
function userLabel(ctx, id) {
  const u = userRecord(ctx, id);
  return u?.real_name || u?.display_name || u?.name || id;
}

function channelName(ctx, id, fallback) {
  const c = byId(ctx?.channels)[id];
  return c?.name || fallback || id;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates: <!date^…> and rich_text date elements, shown in the viewer's timezone and language
// ---------------------------------------------------------------------------------------------------------------

function viewerTz(ctx) {
  const tz = ctx?.viewer?.tz;
  if (!tz) return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    return undefined; // an unknown zone: fall back to the browser's
  }
}

function viewerLocale(ctx) {
  const locale = ctx?.viewer?.locale;
  if (!locale) return "en-US";
  try {
    return Intl.getCanonicalLocales(String(locale).replace("_", "-"))[0];
  } catch {
    return "en-US";
  }
}

function nowOf(ctx) {
  const now = ctx?.now;
  if (now instanceof Date) return now;
  if (typeof now === "number" || typeof now === "string") return new Date(now);
  return new Date();
}

function zonedParts(date, tz) {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  return Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
}

/** Days since the epoch of the calendar day `date` falls on in `tz`: lets us tell Today from Tomorrow. */
function dayNumber(date, tz) {
  const p = zonedParts(date, tz);
  return Date.UTC(+p.year, +p.month - 1, +p.day) / 86_400_000;
}

function ordinal(day) {
  const n = Number(day);
  if (n % 100 >= 11 && n % 100 <= 13) return `${day}th`;
  return `${day}${{ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th"}`;
}

function formatDate(date, ctx, options) {
  const locale = viewerLocale(ctx);
  const fmt = new Intl.DateTimeFormat(locale, { timeZone: viewerTz(ctx), ...options });
  // Slack writes English days as ordinals ("February 18th, 2014") when the month is spelled out
  const ordinals = locale.startsWith("en") && options.month === "long";
  return fmt
    .formatToParts(date)
    .map((p) => (ordinals && p.type === "day" ? ordinal(p.value) : p.value))
    .join("");
}

function capitalize(s, locale) {
  return s ? s.charAt(0).toLocaleUpperCase(locale) + s.slice(1) : s;
}

/** Today / Yesterday / Tomorrow (今天 / 昨天 / 明天 …) for dates near the viewer's now, else null. */
function prettyDay(date, ctx) {
  const tz = viewerTz(ctx);
  const diff = dayNumber(date, tz) - dayNumber(nowOf(ctx), tz);
  if (Math.abs(diff) > 1) return null;
  const locale = viewerLocale(ctx);
  return capitalize(new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(diff, "day"), locale);
}

function ago(date, ctx) {
  const seconds = (date.getTime() - nowOf(ctx).getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(viewerLocale(ctx), { numeric: "auto" });
  const steps = [
    [60, "second", 1],
    [3600, "minute", 60],
    [86_400, "hour", 3600],
    [30 * 86_400, "day", 86_400],
    [365 * 86_400, "month", 30 * 86_400],
    [Infinity, "year", 365 * 86_400],
  ];
  const [, unit, size] = steps.find(([limit]) => Math.abs(seconds) < limit);
  return rtf.format(Math.round(seconds / size), unit);
}

const LONG_DATE = { year: "numeric", month: "long", day: "numeric" };
const SHORT_DATE = { year: "numeric", month: "short", day: "numeric" };
const WEEKDAY_DATE = { weekday: "long", year: "numeric", month: "long", day: "numeric" };

function dateToken(token, date, ctx) {
  switch (token) {
    case "date_num": {
      const p = zonedParts(date, viewerTz(ctx));
      return `${p.year}-${p.month}-${p.day}`;
    }
    case "date":
      return formatDate(date, ctx, LONG_DATE);
    case "date_short":
      return formatDate(date, ctx, SHORT_DATE);
    case "date_long":
      return formatDate(date, ctx, WEEKDAY_DATE);
    case "date_pretty":
      return prettyDay(date, ctx) ?? formatDate(date, ctx, LONG_DATE);
    case "date_short_pretty":
      return prettyDay(date, ctx) ?? formatDate(date, ctx, SHORT_DATE);
    case "date_long_pretty":
      return prettyDay(date, ctx) ?? formatDate(date, ctx, WEEKDAY_DATE);
    case "time":
      return formatDate(date, ctx, { hour: "numeric", minute: "2-digit" });
    case "time_secs":
      return formatDate(date, ctx, { hour: "numeric", minute: "2-digit", second: "2-digit" });
    case "ago":
      return ago(date, ctx);
    default:
      return null;
  }
}

/** A <time> (or a link) for a Unix timestamp shown with a Slack date format such as "{date_pretty} at {time}". */
function renderDate(unix, format, url, fallback, ctx) {
  const seconds = Number(unix);
  const date = new Date(seconds * 1000);
  if (!Number.isFinite(seconds) || Number.isNaN(date.getTime())) {
    return document.createTextNode(decodeEntities(fallback ?? ""));
  }
  const text = decodeEntities(format ?? "{date}").replace(/\{(\w+)\}/g, (whole, token) => {
    return dateToken(token, date, ctx) ?? whole;
  });
  const title = formatDate(date, ctx, { ...WEEKDAY_DATE, hour: "numeric", minute: "2-digit" });
  const time = h("time", { class: "bk-date", datetime: date.toISOString(), title }, text);
  return safeHref(url) ? link(decodeEntities(url), time) : time;
}

// ---------------------------------------------------------------------------------------------------------------
// mrkdwn
// ---------------------------------------------------------------------------------------------------------------

function mentionSpan(ctx, id, fallback) {
  const self = ctx?.viewer?.id && ctx.viewer.id === id;
  return h(
    "span",
    { class: `bk-mention${self ? " bk-mention-self" : ""}`, "data-user-id": id },
    `@${decodeEntities(userName(ctx, id, fallback))}`,
  );
}

function channelSpan(ctx, id, fallback) {
  const name = decodeEntities(channelName(ctx, id, fallback));
  return h("span", { class: "bk-channel", "data-channel-id": id }, `#${name}`);
}

/** One <…> token of mrkdwn (without the brackets) as a node, or null when it is not one (then it shows as is). */
function renderToken(body, ctx) {
  const bar = body.indexOf("|");
  const target = bar >= 0 ? body.slice(0, bar) : body;
  const label = bar >= 0 ? body.slice(bar + 1) : null;
  if (target.startsWith("@") && /^@[A-Z0-9_]+$/i.test(target)) return mentionSpan(ctx, target.slice(1), label);
  if (target.startsWith("#") && /^#[A-Z0-9_]+$/i.test(target)) return channelSpan(ctx, target.slice(1), label);
  if (target.startsWith("!")) {
    const parts = target.slice(1).split("^");
    switch (parts[0]) {
      case "here":
      case "channel":
      case "everyone":
        return h("span", { class: "bk-mention bk-broadcast" }, `@${parts[0]}`);
      case "subteam":
        return h("span", { class: "bk-mention bk-usergroup" }, decodeEntities(label ?? `@${parts[1] ?? "team"}`));
      case "date":
        return renderDate(parts[1], parts[2], parts[3], label, ctx);
      default:
        return label !== null ? document.createTextNode(decodeEntities(label)) : null;
    }
  }
  if (SAFE_HREF.test(target)) {
    const text =
      label !== null ? replaceShortcodes(decodeEntities(label)) : decodeEntities(target.replace(/^mailto:/i, ""));
    return link(decodeEntities(target), text);
  }
  // any other scheme (slack://…, javascript:…): the label alone, never a link
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) && label !== null) return document.createTextNode(decodeEntities(label));
  return null;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"]+/g;

/** Plain text of mrkdwn: entities decoded, bare URLs linked (as Slack's client does), shortcodes as emoji. */
function appendText(parent, raw, { emojis = true, autolink = true } = {}) {
  const text = decodeEntities(raw);
  const put = (s) => s && parent.append(emojis ? replaceShortcodes(s) : s);
  if (!autolink) return put(text);
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation belongs to the sentence
    put(text.slice(last, match.index));
    parent.append(link(url, url));
    last = match.index + url.length;
  }
  put(text.slice(last));
}

// Letters and digits glue to * _ ~ (so snake_case and 2*3*4 stay as typed); CJK characters do not, so
// "这是*重点*内容" is bold as people expect.
const WORD = /[\p{L}\p{N}]/u;
const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u;
const isWord = (ch) => ch !== undefined && WORD.test(ch) && !CJK.test(ch);
const isSpace = (ch) => ch === undefined || /\s/.test(ch);
const STYLE_TAG = { "*": ["b", "bk-bold"], _: ["i", "bk-italic"], "~": ["s", "bk-strike"] };

function opensStyle(s, i) {
  const c = s[i];
  return !isWord(s[i - 1]) && s[i - 1] !== c && !isSpace(s[i + 1]) && s[i + 1] !== c;
}

/** Where the style opened at i closes, skipping <…> tokens and `code`, or -1. */
function findClose(s, i) {
  const c = s[i];
  for (let j = i + 2; j < s.length; j++) {
    if (s[j] === "<") {
      const end = s.indexOf(">", j);
      if (end > 0) j = end;
      continue;
    }
    if (s[j] === "`" && c !== "`") {
      const end = s.indexOf("`", j + 1);
      if (end > 0) j = end;
      continue;
    }
    if (s[j] === c && !isSpace(s[j - 1]) && !isWord(s[j + 1]) && s[j + 1] !== c) return j;
  }
  return -1;
}

/** Inline mrkdwn of one line into parent. `literal` (inside code): only <…> tokens, no styles or emoji. */
function parseInline(parent, s, ctx, literal = false) {
  let plain = "";
  const flush = () => {
    if (plain) appendText(parent, plain, { emojis: !literal, autolink: !literal });
    plain = "";
  };
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === "<") {
      const end = s.indexOf(">", i + 1);
      const node = end > i + 1 ? renderToken(s.slice(i + 1, end), ctx) : null;
      if (node) {
        flush();
        parent.append(node);
        i = end + 1;
        continue;
      }
    } else if (!literal && c === "`") {
      const end = s.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        const code = h("code", { class: "bk-code" });
        parseInline(code, s.slice(i + 1, end), ctx, true);
        parent.append(code);
        i = end + 1;
        continue;
      }
    } else if (!literal && STYLE_TAG[c] && opensStyle(s, i)) {
      const end = findClose(s, i);
      if (end > 0) {
        flush();
        const [tag, cls] = STYLE_TAG[c];
        const el = h(tag, { class: cls });
        parseInline(el, s.slice(i + 1, end), ctx);
        parent.append(el);
        i = end + 1;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
}

const QUOTE_ALL = /^(?:>>>|&gt;&gt;&gt;) ?/;
const QUOTE_LINE = /^(?:>|&gt;) ?/;

/** Lines of mrkdwn (no ``` inside): quotes grouped into <blockquote>, other lines separated by <br>. */
function renderLines(parent, segment, ctx) {
  const lines = segment.split("\n");
  const groups = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (QUOTE_ALL.test(line)) {
      groups.push({ quote: [line.replace(QUOTE_ALL, ""), ...lines.slice(i + 1)] });
      break;
    }
    if (QUOTE_LINE.test(line)) {
      const last = groups.at(-1);
      const text = line.replace(QUOTE_LINE, "");
      if (last?.quote) last.quote.push(text);
      else groups.push({ quote: [text] });
    } else {
      groups.push({ line });
    }
  }
  groups.forEach((group, n) => {
    if (group.quote) {
      const quote = h("blockquote", { class: "bk-quote" });
      group.quote.forEach((text, k) => {
        if (k) quote.append(h("br"));
        parseInline(quote, text, ctx);
      });
      parent.append(quote);
    } else {
      parseInline(parent, group.line, ctx);
      if (groups[n + 1] && !groups[n + 1].quote) parent.append(h("br"));
    }
  });
}

/** Slack mrkdwn as DOM nodes. */
export function renderMrkdwn(text, ctx = {}) {
  const frag = document.createDocumentFragment();
  const src = String(text ?? "");
  const fence = /```([\s\S]*?)```/g;
  let last = 0;
  for (const match of src.matchAll(fence)) {
    // the newline before and after a fence belongs to the fence, not to an empty line
    const before = src.slice(last, match.index).replace(/\n$/, "");
    if (before) renderLines(frag, before, ctx);
    const pre = h("pre", { class: "bk-pre" });
    parseInline(pre, match[1].replace(/^\n/, "").replace(/\n$/, ""), ctx, true);
    frag.append(pre);
    last = match.index + match[0].length;
    if (src[last] === "\n") last += 1;
  }
  const rest = src.slice(last);
  if (rest) renderLines(frag, rest, ctx);
  return frag;
}

/** A text object ({type: plain_text|mrkdwn, text, emoji?}; a bare string counts as plain_text) as a <span>. */
export function renderText(textObject, ctx = {}) {
  if (textObject === null || textObject === undefined) return document.createTextNode("");
  const obj = typeof textObject === "string" ? { type: "plain_text", text: textObject } : textObject;
  if (obj.type === "mrkdwn") return h("span", { class: "bk-mrkdwn" }, renderMrkdwn(obj.text, ctx));
  // plain_text: as is. Slack turns :shortcodes: into emoji unless emoji is false.
  const text = String(obj.text ?? "");
  return h("span", { class: "bk-plain" }, obj.emoji === false ? text : replaceShortcodes(text));
}

/** A text object as a string (for <option>s, aria-labels and titles). */
function textString(textObject, ctx) {
  return renderText(textObject, ctx).textContent;
}

// ---------------------------------------------------------------------------------------------------------------
// rich_text
// ---------------------------------------------------------------------------------------------------------------

function styled(node, style) {
  let out = node;
  if (style?.code) out = h("code", { class: "bk-code" }, out);
  if (style?.strike) out = h("s", { class: "bk-strike" }, out);
  if (style?.italic) out = h("i", { class: "bk-italic" }, out);
  if (style?.bold) out = h("b", { class: "bk-bold" }, out);
  return out;
}

function textWithBreaks(text) {
  const frag = document.createDocumentFragment();
  String(text ?? "")
    .split("\n")
    .forEach((line, i) => {
      if (i) frag.append(h("br"));
      if (line) frag.append(line);
    });
  return frag;
}

function richInline(el, ctx) {
  switch (el?.type) {
    case "text":
      return styled(textWithBreaks(el.text), el.style);
    case "link":
      return styled(link(el.url, el.text || el.url), el.style);
    case "user":
      return styled(mentionSpan(ctx, el.user_id), el.style);
    case "usergroup":
      return styled(h("span", { class: "bk-mention bk-usergroup" }, `@${el.usergroup_id}`), el.style);
    case "channel":
      return styled(channelSpan(ctx, el.channel_id), el.style);
    case "broadcast":
      return styled(h("span", { class: "bk-mention bk-broadcast" }, `@${el.range}`), el.style);
    case "emoji": {
      const char = el.unicode
        ? String.fromCodePoint(...el.unicode.split("-").map((hex) => parseInt(hex, 16)))
        : emoji(el.name);
      return styled(h("span", { class: "bk-emoji", title: `:${el.name}:` }, char), el.style);
    }
    case "date":
      return styled(renderDate(el.timestamp, el.format, el.url, el.fallback, ctx), el.style);
    case "color": {
      const colour = /^#[0-9a-f]{3,8}$/i.test(el.value) ? el.value : "transparent";
      const swatch = h("span", { class: "bk-swatch", style: `background:${colour}` });
      return h("span", { class: "bk-color" }, swatch, el.value);
    }
    default:
      return document.createTextNode("");
  }
}

function richSection(section, ctx, tag = "div", cls = "bk-rich-section") {
  return h(tag, { class: cls }, (section?.elements ?? []).map((el) => richInline(el, ctx)));
}

const ORDERED_STYLES = ["decimal", "lower-alpha", "lower-roman"];
const BULLET_STYLES = ["disc", "circle", "square"];

function richElement(el, ctx) {
  switch (el?.type) {
    case "rich_text_section":
      return richSection(el, ctx);
    case "rich_text_quote":
      return richSection(el, ctx, "blockquote", "bk-quote");
    case "rich_text_preformatted":
      return richSection(el, ctx, "pre", "bk-pre");
    case "rich_text_list": {
      const ordered = el.style === "ordered";
      const indent = Number(el.indent) || 0;
      const styles = ordered ? ORDERED_STYLES : BULLET_STYLES;
      const list = h(ordered ? "ol" : "ul", {
        class: `bk-list bk-indent-${indent}${el.border ? " bk-list-border" : ""}`,
        start: ordered && el.offset ? Number(el.offset) + 1 : null,
        style: `list-style-type:${styles[indent % 3]};margin-left:${indent * 1.5}em`,
        "data-indent": indent,
      });
      for (const item of el.elements ?? []) list.append(richSection(item, ctx, "li", "bk-list-item"));
      return list;
    }
    default:
      return document.createTextNode("");
  }
}

/** A rich_text value flattened to the plain string a rich_text_input holds. */
function richTextToPlain(value) {
  const inline = (section) =>
    (section?.elements ?? [])
      .map((e) => {
        if (e.type === "text") return e.text ?? "";
        if (e.type === "link") return e.text || e.url || "";
        if (e.type === "user") return `<@${e.user_id}>`;
        if (e.type === "channel") return `<#${e.channel_id}>`;
        if (e.type === "emoji") return `:${e.name}:`;
        return "";
      })
      .join("");
  return (value?.elements ?? [])
    .map((el) => {
      if (el.type === "rich_text_list") return (el.elements ?? []).map((item) => `• ${inline(item)}`).join("\n");
      if (el.type === "rich_text_quote") return `> ${inline(el)}`;
      return inline(el);
    })
    .join("\n")
    .replace(/\n$/, "");
}

// ---------------------------------------------------------------------------------------------------------------
// Interactivity: actions, confirm dialogs, overflow menus
// ---------------------------------------------------------------------------------------------------------------

function emit(ctx, action, element) {
  ctx?.onAction?.(action, element);
}

function baseAction(el, env) {
  return { type: el.type, action_id: el.action_id ?? null, block_id: env.blockId ?? null };
}

/** Slack's confirm dialog: calls proceed() only when the person confirms, cancel() otherwise. */
function confirmThen(confirm, ctx, proceed, cancel = () => {}) {
  if (!confirm) {
    proceed();
    return;
  }
  const titleId = uid("confirm-title");
  const textId = uid("confirm-text");
  const deny = h("button", { type: "button", class: "bk-button" }, textString(confirm.deny, ctx) || "Cancel");
  const style = confirm.style === "danger" ? "bk-button-danger" : "bk-button-primary";
  const yes = textString(confirm.confirm, ctx) || "Yes";
  const accept = h("button", { type: "button", class: `bk-button ${style}` }, yes);
  const dialog = h(
    "dialog",
    { class: "bk-dialog", "aria-labelledby": titleId, "aria-describedby": textId },
    h("h2", { id: titleId, class: "bk-dialog-title" }, textString(confirm.title, ctx) || "Are you sure?"),
    h("div", { id: textId, class: "bk-dialog-text" }, renderText(confirm.text, ctx)),
    h("div", { class: "bk-dialog-buttons" }, deny, accept),
  );
  deny.addEventListener("click", () => dialog.close("deny"));
  accept.addEventListener("click", () => dialog.close("confirm"));
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (dialog.returnValue === "confirm") proceed();
    else cancel();
  }, { once: true });
  // on <body>, so that a page re-rendering the message behind it does not take the dialog away
  document.body.append(dialog);
  dialog.showModal();
  deny.focus();
}

function renderButton(el, ctx, env) {
  const classes = ["bk-button", el.style ? `bk-button-${el.style}` : ""].filter(Boolean).join(" ");
  const button = h(
    "button",
    {
      type: "button",
      class: classes,
      "data-action-id": el.action_id,
      "data-url": el.url && safeHref(el.url),
      "aria-label": el.accessibility_label,
      value: el.value,
    },
    renderText(el.text ?? { type: "plain_text", text: "" }, ctx),
  );
  button.addEventListener("click", () => {
    confirmThen(el.confirm, ctx, () => {
      if (el.url) openUrl(el.url); // Slack opens the link and still sends the action
      const action = baseAction(el, env);
      if (el.value !== undefined) action.value = el.value;
      emit(ctx, action, button);
    });
  });
  return button;
}

function renderOverflow(el, ctx, env) {
  const menuId = uid("menu");
  const toggle = h(
    "button",
    {
      type: "button",
      class: "bk-overflow-button",
      "aria-label": "More actions",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
    },
    "⋯",
  );
  const menu = h("div", { class: "bk-menu", role: "menu", id: menuId, hidden: true });
  const wrapper = h("div", { class: "bk-overflow", "data-action-id": el.action_id }, toggle, menu);
  const items = [];

  const onOutside = (event) => {
    if (!wrapper.contains(event.target)) close();
  };
  function close() {
    menu.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", onOutside, true);
  }
  function open() {
    menu.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    document.addEventListener("mousedown", onOutside, true);
    items[0]?.focus();
  }
  toggle.addEventListener("click", () => (menu.hidden ? open() : close()));

  for (const option of el.options ?? []) {
    const item = h(
      "button",
      { type: "button", role: "menuitem", class: "bk-menu-item", tabindex: "-1", value: option.value },
      renderText(option.text, ctx),
    );
    item.addEventListener("click", () => {
      close();
      toggle.focus();
      confirmThen(el.confirm, ctx, () => {
        if (option.url) openUrl(option.url);
        emit(ctx, { ...baseAction(el, env), value: option.value, selected_option: option }, wrapper);
      });
    });
    items.push(item);
    menu.append(item);
  }
  menu.addEventListener("keydown", (event) => {
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      close();
      toggle.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    }
  });
  return wrapper;
}

function renderImageElement(el) {
  const src = el.image_url ?? el.slack_file?.url;
  return h("img", {
    class: "bk-image-element",
    src: src && SAFE_SRC.test(src) ? src : null,
    alt: el.alt_text ?? "",
    title: el.alt_text,
    loading: "lazy",
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Form controls: selects, pickers, text inputs, radio buttons, checkboxes
// ---------------------------------------------------------------------------------------------------------------

const TEXT_TYPES = {
  plain_text_input: "text",
  email_text_input: "email",
  url_text_input: "url",
  number_input: "number",
  rich_text_input: "text",
  datepicker: "date",
  timepicker: "time",
  datetimepicker: "datetime-local",
};

const SELECT_TYPES = new Set([
  "static_select",
  "multi_static_select",
  "external_select",
  "multi_external_select",
  "users_select",
  "multi_users_select",
  "conversations_select",
  "multi_conversations_select",
  "channels_select",
  "multi_channels_select",
]);

const isMulti = (type) => type.startsWith("multi_");
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const optionValue = (o) => (o && typeof o === "object" ? o.value : o);

/** The value a control starts with: `values` (what the person had typed) wins over the element's initial_*. */
function startingValue(el, env) {
  if (env.values && env.blockId && Object.hasOwn(env.values, env.blockId)) return env.values[env.blockId];
  switch (el.type) {
    case "static_select":
    case "external_select":
    case "radio_buttons":
      return optionValue(el.initial_option) ?? null;
    case "multi_static_select":
    case "multi_external_select":
    case "checkboxes":
      return asList(el.initial_options).map(optionValue);
    case "users_select":
      return el.initial_user ?? null;
    case "multi_users_select":
      return el.initial_users ?? [];
    case "conversations_select":
      return el.initial_conversation ?? null;
    case "multi_conversations_select":
      return el.initial_conversations ?? [];
    case "channels_select":
      return el.initial_channel ?? null;
    case "multi_channels_select":
      return el.initial_channels ?? [];
    case "datepicker":
      return el.initial_date ?? null;
    case "timepicker":
      return el.initial_time ?? null;
    case "datetimepicker":
      return el.initial_date_time ?? null;
    case "rich_text_input":
      return el.initial_value ? richTextToPlain(el.initial_value) : null;
    default:
      return el.initial_value ?? null;
  }
}

/** [{label?, options: [{value, text}]}] for a select element. */
function selectGroups(el, ctx, selected) {
  const type = el.type;
  if (type.includes("users_select")) {
    const users = Object.entries(byId(ctx?.users))
      .filter(([, u]) => !u.is_bot && !u.deleted)
      .map(([id]) => ({ value: id, text: userLabel(ctx, id) }));
    return [{ options: withSelected(users, selected, (id) => userLabel(ctx, id)) }];
  }
  if (type.includes("conversations_select") || type.includes("channels_select")) {
    const include = type.includes("channels_select") ? ["public"] : el.filter?.include;
    const kinds = { channel: "public", private: "private", dm: "im", im: "im", mpim: "mpim" };
    const channels = Object.entries(byId(ctx?.channels))
      .filter(([, c]) => !include || include.includes(kinds[c.kind ?? "channel"] ?? "public"))
      .filter(([, c]) => !(el.filter?.exclude_bot_users && c.kind === "dm" && userRecord(ctx, c.user)?.is_bot))
      .map(([id, c]) => ({ value: id, text: conversationLabel(ctx, id, c) }));
    return [{ options: withSelected(channels, selected, (id) => `#${channelName(ctx, id)}`) }];
  }
  const plain = (o) => ({ value: o.value, text: textString(o.text, ctx) });
  if (el.option_groups) {
    return el.option_groups.map((g) => ({ label: textString(g.label, ctx), options: (g.options ?? []).map(plain) }));
  }
  // external selects have no data source here: offer what they start with
  const options = el.options ?? [...asList(el.initial_option), ...asList(el.initial_options)];
  return [{ options: options.map(plain) }];
}

function conversationLabel(ctx, id, c) {
  if (c.kind === "dm" || c.kind === "im") return `@${userName(ctx, c.user, c.name)}`;
  return `${c.kind === "private" ? "🔒 " : "#"}${c.name ?? id}`;
}

/** Keep a chosen id selectable even when the workspace lists do not have it (a bot, someone who left). */
function withSelected(options, selected, label) {
  const known = new Set(options.map((o) => o.value));
  const extra = asList(selected)
    .filter((v) => v && !known.has(v))
    .map((v) => ({ value: v, text: label(v) }));
  return [...options, ...extra];
}

function readSelect(select) {
  if (select.multiple) return [...select.selectedOptions].map((o) => o.value).filter(Boolean);
  return select.value || null;
}

function renderSelect(el, ctx, env) {
  const multi = isMulti(el.type);
  const selected = new Set(asList(startingValue(el, env)).map(optionValue));
  const placeholder = textString(el.placeholder, ctx) || (multi ? "Select items" : "Select an item");
  const select = h("select", {
    class: `bk-select${multi ? " bk-select-multi" : ""}`,
    multiple: multi,
    "data-action-id": el.action_id,
    "data-element-type": el.type,
    title: multi ? placeholder : null,
  });
  if (!multi) {
    // the placeholder is the empty choice; in messages it cannot be chosen back
    select.append(h("option", { value: "", disabled: !env.input, selected: selected.size === 0 }, placeholder));
  }
  let count = 0;
  for (const group of selectGroups(el, ctx, [...selected])) {
    const parent = group.label !== undefined ? h("optgroup", { label: group.label }) : select;
    for (const o of group.options) {
      parent.append(h("option", { value: o.value, selected: selected.has(o.value) }, o.text));
      count += 1;
    }
    if (parent !== select) select.append(parent);
  }
  if (multi) select.size = Math.min(Math.max(count, 2), 6);
  if (!multi && selected.size === 0) select.value = "";

  let previous = readSelect(select);
  select.addEventListener("change", () => {
    if (!env.interactive) return;
    const chosen = readSelect(select);
    confirmThen(
      el.confirm,
      ctx,
      () => {
        previous = chosen;
        emit(ctx, selectAction(el, env, chosen, select), select);
      },
      () => setSelect(select, previous), // Slack puts the old choice back when the person cancels
    );
  });
  return select;
}

function setSelect(select, value) {
  const wanted = new Set(asList(value));
  for (const option of select.options) option.selected = wanted.has(option.value);
  if (!select.multiple && !value) select.value = "";
}

function selectAction(el, env, chosen, select) {
  const action = { ...baseAction(el, env), value: chosen };
  const type = el.type;
  const optionOf = (value) => {
    const option = [...select.options].find((o) => o.value === value);
    const found = [...(el.options ?? []), ...(el.option_groups ?? []).flatMap((g) => g.options ?? [])].find(
      (o) => o.value === value,
    );
    return found ?? { text: { type: "plain_text", text: option?.textContent ?? value, emoji: true }, value };
  };
  if (type.endsWith("static_select") || type.endsWith("external_select")) {
    if (isMulti(type)) action.selected_options = chosen.map(optionOf);
    else action.selected_option = chosen ? optionOf(chosen) : null;
  } else if (type.includes("users_select")) {
    action[isMulti(type) ? "selected_users" : "selected_user"] = chosen;
  } else if (type.includes("conversations_select")) {
    action[isMulti(type) ? "selected_conversations" : "selected_conversation"] = chosen;
  } else if (type.includes("channels_select")) {
    action[isMulti(type) ? "selected_channels" : "selected_channel"] = chosen;
    action[isMulti(type) ? "selected_conversations" : "selected_conversation"] = chosen;
  }
  return action;
}

// datetimepicker values are Unix seconds; <input type=datetime-local> holds the viewer's wall time.
function tzOffsetMs(date, tz) {
  const p = zonedParts(date, tz);
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return wall - Math.floor(date.getTime() / 1000) * 1000;
}

function unixToLocalInput(unix, tz) {
  const p = zonedParts(new Date(Number(unix) * 1000), tz);
  return `${p.year}-${p.month}-${p.day}T${String(+p.hour % 24).padStart(2, "0")}:${p.minute}`;
}

function localInputToUnix(value, tz) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(value);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // two passes settle the offset around a DST change
  let guess = wall - tzOffsetMs(new Date(wall), tz);
  guess = wall - tzOffsetMs(new Date(guess), tz);
  return Math.round(guess / 1000);
}

function readInput(control) {
  const value = control.value;
  if (value === "") return null;
  if (control.dataset.elementType === "datetimepicker") return localInputToUnix(value, control.dataset.tz || undefined);
  return value;
}

// Fields people type into: with dispatch_action they report the text as it is typed.
const TYPED = new Set(["plain_text_input", "rich_text_input", "email_text_input", "url_text_input", "number_input"]);

function renderTextInput(el, ctx, env) {
  const type = el.type;
  const multiline = (type === "plain_text_input" && el.multiline) || type === "rich_text_input";
  let start = startingValue(el, env);
  if (type === "datetimepicker" && start !== null) start = unixToLocalInput(start, viewerTz(ctx));
  const attrs = {
    class: `bk-input-control${multiline ? " bk-textarea" : ""}`,
    "data-action-id": el.action_id,
    "data-element-type": type,
    "data-tz": type === "datetimepicker" ? viewerTz(ctx) : null,
    placeholder: el.placeholder ? textString(el.placeholder, ctx) : null,
    maxlength: el.max_length,
    minlength: el.min_length,
  };
  let control;
  if (multiline) {
    control = h("textarea", { ...attrs, rows: type === "rich_text_input" ? 4 : 3 });
  } else {
    control = h("input", { ...attrs, type: TEXT_TYPES[type] ?? "text" });
    if (type === "number_input") {
      control.inputMode = el.is_decimal_allowed ? "decimal" : "numeric";
      control.step = el.is_decimal_allowed ? "any" : "1";
      if (el.min_value !== undefined) control.min = el.min_value;
      if (el.max_value !== undefined) control.max = el.max_value;
    }
  }
  if (start !== null && start !== undefined) control.value = String(start);
  if (!env.input) {
    // a picker in a message has no <label>: name it by its placeholder, as Slack shows it
    const fallback = type === "timepicker" ? "Select a time" : type === "datepicker" ? "Select a date" : "";
    const name = attrs.placeholder || fallback;
    if (name) control.setAttribute("aria-label", name);
  }

  if (env.dispatch && TYPED.has(type)) {
    // Slack sends the text a little after the person stops typing
    let timer = null;
    const send = () => {
      timer = null;
      ctx?.onDispatchInput?.(env.blockId, control.value);
    };
    control.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(send, 400);
    });
    control.addEventListener("keydown", (event) => {
      // Enter in a one-line field sends what is pending at once
      if (event.key === "Enter" && !multiline && timer !== null) {
        clearTimeout(timer);
        send();
      }
    });
  } else if (env.interactive || env.dispatch) {
    control.addEventListener("change", () => {
      const value = readInput(control);
      const action = { ...baseAction(el, env), value };
      if (type === "datepicker") action.selected_date = value;
      if (type === "timepicker") action.selected_time = value;
      if (type === "datetimepicker") action.selected_date_time = value;
      confirmThen(el.confirm, ctx, () => emit(ctx, action, control));
    });
  }
  return control;
}

/** Radio buttons and checkboxes: a group of real inputs, each with its own <label>. */
function renderChoices(el, ctx, env, container) {
  const radio = el.type === "radio_buttons";
  const name = uid("choice");
  const chosen = new Set(asList(startingValue(el, env)).map(optionValue));
  container.classList.add("bk-choices", radio ? "bk-radio-buttons" : "bk-checkboxes");
  if (el.action_id) container.dataset.actionId = el.action_id;
  container.dataset.elementType = el.type;
  if (radio) container.setAttribute("role", "radiogroup");
  const inputs = [];
  for (const option of el.options ?? []) {
    const input = h("input", {
      type: radio ? "radio" : "checkbox",
      name,
      value: option.value,
      class: "bk-choice-input",
    });
    input.checked = chosen.has(option.value);
    inputs.push(input);
    container.append(
      h(
        "label",
        { class: "bk-choice" },
        input,
        h(
          "span",
          { class: "bk-choice-text" },
          renderText(option.text, ctx),
          option.description
            ? h("span", { class: "bk-choice-description" }, renderText(option.description, ctx))
            : null,
        ),
      ),
    );
  }
  if (env.interactive || env.dispatch) {
    container.addEventListener("change", () => {
      const picked = el.options.filter((o, i) => inputs[i].checked);
      const action = radio
        ? { ...baseAction(el, env), value: picked[0]?.value ?? null, selected_option: picked[0] ?? null }
        : { ...baseAction(el, env), value: picked.map((o) => o.value), selected_options: picked };
      emit(ctx, action, container);
    });
  }
  return container;
}

function readChoices(container) {
  const checked = [...container.querySelectorAll("input.bk-choice-input")].filter((i) => i.checked).map((i) => i.value);
  return container.dataset.elementType === "radio_buttons" ? (checked[0] ?? null) : checked;
}

/** An interactive element outside an input block (section accessory, actions block). */
function renderElement(el, ctx, env) {
  const type = el?.type;
  const inMessage = { ...env, interactive: true, input: false };
  if (type === "button" || type === "workflow_button") return renderButton(el, ctx, inMessage);
  if (type === "overflow") return renderOverflow(el, ctx, inMessage);
  if (type === "image") return renderImageElement(el);
  if (SELECT_TYPES.has(type)) {
    const select = renderSelect(el, ctx, inMessage);
    select.setAttribute("aria-label", textString(el.placeholder, ctx) || "Select an item");
    return select;
  }
  if (type === "checkboxes" || type === "radio_buttons") {
    const group = renderChoices(el, ctx, inMessage, h("div", { role: "group" }));
    if (el.placeholder) group.setAttribute("aria-label", textString(el.placeholder, ctx));
    return group;
  }
  if (TEXT_TYPES[type]) return renderTextInput(el, ctx, inMessage);
  return h("span", { class: "bk-unsupported" }, `[${type ?? "unknown"}]`);
}

// ---------------------------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------------------------

function blockShell(block) {
  const type = block?.type ?? "unknown";
  return h("div", {
    class: `bk-block bk-${type}`,
    "data-block-type": type,
    "data-block-id": block?.block_id,
  });
}

function renderSection(block, ctx, shell) {
  const body = h("div", { class: "bk-section-body" });
  if (block.text) body.append(h("div", { class: "bk-section-text" }, renderText(block.text, ctx)));
  if (block.fields?.length) {
    const fields = block.fields.map((f) => h("div", { class: "bk-field" }, renderText(f, ctx)));
    body.append(h("div", { class: "bk-fields" }, fields));
  }
  shell.append(body);
  if (block.accessory) {
    const env = { blockId: block.block_id };
    const accessory = renderElement(block.accessory, ctx, env);
    shell.append(h("div", { class: `bk-accessory bk-accessory-${block.accessory.type}` }, accessory));
  }
}

function renderImageBlock(block, ctx, shell) {
  const src = block.image_url ?? block.slack_file?.url;
  const figure = h("figure", { class: "bk-figure" });
  if (block.title) figure.append(h("figcaption", { class: "bk-image-title" }, renderText(block.title, ctx)));
  figure.append(
    h("img", {
      class: "bk-image",
      src: src && SAFE_SRC.test(src) ? src : null,
      alt: block.alt_text ?? "",
      loading: "lazy",
    }),
  );
  shell.append(figure);
}

function renderInputBlock(block, ctx, shell, opts) {
  const el = block.element ?? {};
  const blockId = block.block_id;
  const error = blockId ? opts.errors?.[blockId] : undefined;
  const group = el.type === "radio_buttons" || el.type === "checkboxes";
  const env = {
    blockId,
    input: true,
    interactive: false,
    dispatch: Boolean(block.dispatch_action),
    values: opts.values,
  };
  const hintId = block.hint ? uid("hint") : null;
  const errorId = error ? uid("error") : null;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || null;
  const labelText = renderText(block.label ?? "", ctx);
  const optional = block.optional ? h("span", { class: "bk-optional" }, "(optional)") : null;

  let field;
  if (group) {
    const legend = h("legend", { class: "bk-label" }, labelText, optional ? " " : null, optional);
    const fieldset = h("fieldset", { class: "bk-fieldset", "aria-describedby": describedBy }, legend);
    field = renderChoices(el, ctx, env, fieldset);
    field.dataset.bkControl = "";
    if (error) for (const input of field.querySelectorAll("input")) input.setAttribute("aria-invalid", "true");
    shell.append(field);
  } else {
    const control = SELECT_TYPES.has(el.type)
      ? renderSelect(el, ctx, env)
      : TEXT_TYPES[el.type]
        ? renderTextInput(el, ctx, env)
        : h("input", { type: "text", disabled: true, placeholder: `[${el.type}]`, "data-element-type": el.type });
    if (SELECT_TYPES.has(el.type) && env.dispatch) {
      // a select with dispatch_action sends block_actions as it changes
      control.addEventListener("change", () => emit(ctx, selectAction(el, env, readSelect(control), control), control));
    }
    control.id = uid("control");
    control.dataset.bkControl = "";
    if (describedBy) control.setAttribute("aria-describedby", describedBy);
    if (error) control.setAttribute("aria-invalid", "true");
    if (!block.optional) control.setAttribute("aria-required", "true");
    shell.append(
      h(
        "div",
        { class: "bk-label-row" },
        h("label", { class: "bk-label", for: control.id }, labelText),
        optional ? " " : null,
        optional,
      ),
      control,
    );
  }
  if (error) shell.append(h("div", { class: "bk-error", role: "alert", id: errorId }, String(error)));
  if (block.hint) shell.append(h("div", { class: "bk-hint", id: hintId }, renderText(block.hint, ctx)));
  if (error) shell.classList.add("bk-has-error");
}

function renderBlock(block, ctx, opts) {
  const shell = blockShell(block);
  const env = { blockId: block?.block_id };
  switch (block?.type) {
    case "header":
      shell.append(h("h2", { class: "bk-header-text" }, renderText(block.text, ctx)));
      break;
    case "section":
      renderSection(block, ctx, shell);
      break;
    case "context":
      for (const el of block.elements ?? []) {
        const node = el.type === "image" ? renderImageElement(el) : renderText(el, ctx);
        shell.append(el.type === "image" ? node : h("span", { class: "bk-context-text" }, node));
      }
      break;
    case "actions":
      for (const el of block.elements ?? []) shell.append(renderElement(el, ctx, env));
      break;
    case "divider":
      shell.append(h("hr", { class: "bk-divider-line" }));
      break;
    case "image":
      renderImageBlock(block, ctx, shell);
      break;
    case "rich_text":
      for (const el of block.elements ?? []) shell.append(richElement(el, ctx));
      break;
    case "input":
      renderInputBlock(block, ctx, shell, opts);
      break;
    case "markdown":
      // standard markdown blocks: shown as their text, line breaks kept
      shell.append(h("div", { class: "bk-markdown-text" }, textWithBreaks(block.text)));
      break;
    default:
      shell.append(h("div", { class: "bk-unsupported" }, `Unsupported block: ${block?.type ?? "unknown"}`));
  }
  return shell;
}

/** A message's (or the App Home's) blocks. */
export function renderBlocks(blocks, ctx = {}) {
  return h("div", { class: "bk-blocks" }, (blocks ?? []).map((b) => renderBlock(b, ctx, {})));
}

/** The body of a view: every block, input blocks as labelled form fields with their errors and values. */
export function renderView(view, ctx = {}, { errors = {}, values = {} } = {}) {
  const opts = { errors: errors ?? {}, values: values ?? {} };
  return h(
    "div",
    { class: `bk-view bk-view-${view?.type ?? "modal"}`, "data-callback-id": view?.callback_id },
    (view?.blocks ?? []).map((b) => renderBlock(b, ctx, opts)),
  );
}

/** {block_id: value} for every input block rendered under root (empty: null, or [] for lists). */
export function collectValues(root) {
  const out = {};
  for (const block of root.querySelectorAll('[data-block-type="input"][data-block-id]')) {
    const control = block.querySelector("[data-bk-control]");
    if (!control) continue;
    let value;
    if (control.matches("fieldset")) value = readChoices(control);
    else if (control.matches("select")) value = readSelect(control);
    else value = readInput(control);
    out[block.dataset.blockId] = value;
  }
  return out;
}
