"""Generate `tickets_labelled.jsonl`: realistic, labelled support tickets for the local provider's accuracy figures.

Deterministic (fixed seed): run `python ai/tests/data/make_tickets.py` and the file comes out byte for byte the
same. Each ticket is composed from hand-written problem statements of one category (with slots for products,
amounts, order numbers, browsers…), optionally a detail sentence, an urgency line, a greeting and a sign-off,
and then some noise real inboxes have: lower-case typing, missing punctuation, a typo. A few tickets mention
words of another category on purpose ("can't log in to download my invoice" is billing) so the set is not trivially
separable by keywords.

Categories and their descriptions (the zero-shot labels) are in `labels.json` next to this file.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261122
PER_CATEGORY = 50

SLOTS = {
    "amount": ["$49", "$120", "€89.00", "£35", "$1,240", "€19.99", "$299", "€640"],
    "plan": ["Business", "Pro", "Starter", "Enterprise", "Team", "Growth"],
    "month": ["March", "April", "May", "June", "September", "October", "November", "January"],
    "invoice": ["INV-20431", "INV-1187", "#88213", "INV-2026-0412", "#40017"],
    "order": ["#10482", "#55310", "A-77812", "#20931", "SO-4471", "#9003"],
    "carrier": ["DHL", "UPS", "FedEx", "the courier", "Royal Mail", "DPD"],
    "days": ["three", "five", "ten", "two", "six"],
    "feature": [
        "the reports page",
        "the CSV export",
        "the ticket inbox",
        "the customer list",
        "the mobile app",
        "the dashboard",
        "the knowledge base editor",
        "the live chat widget",
        "search",
        "the calendar sync",
    ],
    "action": [
        "save a ticket",
        "upload an attachment",
        "export to CSV",
        "merge two contacts",
        "add a tag",
        "assign a ticket",
        "send a reply",
        "create a macro",
        "filter by date",
        "print a quote",
    ],
    "error": [
        "error 500",
        "a 502 Bad Gateway",
        '"Something went wrong"',
        "a blank white page",
        "error 403",
        '"Request failed with status code 422"',
        "a timeout message",
        '"Unexpected token < in JSON"',
    ],
    "browser": [
        "Chrome",
        "Firefox",
        "Safari",
        "Edge",
        "Chrome on Windows 11",
        "Safari on macOS 14",
        "the iOS app",
        "the Android app",
    ],
    "wish": [
        "a dark mode",
        "keyboard shortcuts for macros",
        "an integration with Slack",
        "bulk editing of tickets",
        "custom fields on contacts",
        "scheduled reports by email",
        "a Zapier integration",
        "two languages in the help center",
        "SLA timers per customer",
        "an API endpoint for tags",
        "Gantt charts",
        "a way to snooze tickets",
    ],
    "field": [
        "email address",
        "company name",
        "billing address",
        "phone number",
        "VAT number",
        "display name",
        "time zone",
        "username",
    ],
    "seconds": ["20 seconds", "a full minute", "over 30 seconds", "10-15 seconds", "two minutes"],
    "name": ["Maria", "Tom", "Aisha", "Jonas", "Priya", "Luca", "Sofia", "Ben", "Chen", "Olga", "Diego", "Emma"],
}

CATEGORIES: dict[str, dict[str, list[str]]] = {
    "billing": {
        "core": [
            "I was charged twice for my {plan} subscription this month.",
            "My invoice {invoice} shows {amount} but our plan should cost less than that.",
            "Can you please send me a refund for the {month} payment? We cancelled before the renewal.",
            "The invoice for {month} has the wrong company name and VAT number on it.",
            "Why did my card get charged {amount} today? I didn't upgrade anything.",
            "We downgraded from {plan} but we are still billed the old price.",
            "our credit card expired, how do I update the payment method before the next invoice",
            "I need a copy of all invoices from last year for our accountant.",
            "The payment failed and now the account says past due, but the money left our bank.",
            "Please cancel the automatic renewal, we don't want to be charged {amount} again.",
            "We got an invoice in euros but we are a US company and should pay in dollars.",
            "Is there a discount for nonprofits? The {plan} plan is too expensive for us.",
            "I can't log in to the billing portal to download invoice {invoice}.",
            "you charged us for 12 seats but we only have 8 agents",
            "The pro-rated amount on the upgrade invoice looks wrong, {amount} for half a month?",
        ],
        "detail": [
            "The bank statement shows two transactions on the same day.",
            "Our finance team needs this fixed before the end of the month.",
            "I attached a screenshot of the charge.",
            "The invoice number is {invoice}.",
            "We have been customers for three years and this never happened before.",
            "Our purchase order has to match the invoice exactly.",
        ],
    },
    "login": {
        "core": [
            "I can't log in, it keeps saying my password is incorrect even after I reset it.",
            "The password reset email never arrives, I checked the spam folder too.",
            "I lost my phone and can't get the two-factor code anymore.",
            "My account is locked after too many login attempts, please unlock it.",
            "Single sign-on with Google stopped working for our whole team this morning.",
            "When I try to sign in I'm sent back to the login page again and again.",
            "the invitation link says expired and I cannot join my team's workspace",
            'I get "invalid credentials" although I am 100% sure the password is right.',
            "Our new agent never received the invite email, so she cannot access the account.",
            "The authenticator code is always rejected, maybe the time is off?",
            "After changing my email address I can't log in with either the old or the new one.",
            "SAML login fails with an error from our identity provider since yesterday.",
            "I am logged out every few minutes and have to enter my password again.",
            "i forgot which email i used to sign up, can you help me get back into my account",
            "The reset link opens a page that says the token is invalid.",
        ],
        "detail": [
            "I tried it in {browser} and in a private window.",
            "My colleague has the same problem.",
            "I have cleared cookies and cache already.",
            "It worked fine until last Friday.",
            "We cannot answer any customer tickets while we are locked out.",
            "My username is the same as my email address.",
        ],
    },
    "bug": {
        "core": [
            "When I try to {action} I get {error}.",
            "The {feature} crashes as soon as I open it.",
            "Attachments larger than 2 MB fail to upload with {error}.",
            "Dates in {feature} are shown one day off since the last update.",
            "Clicking Save does nothing, the button just spins and the changes are lost.",
            "The CSV export is missing the last column and the umlauts are broken.",
            "Since the latest release {feature} shows {error} for every user.",
            "Replies sent from the inbox arrive twice at the customer.",
            "The filter by status ignores my selection and always shows all tickets.",
            "Images in the knowledge base articles are broken after publishing.",
            "Notifications link to the wrong ticket, I click one and another one opens.",
            "It should be possible to {action} but instead nothing happens and the console shows {error}.",
            "the tag dropdown is empty, we have 40 tags configured",
            "Sorting the customer list by name puts lowercase names at the end.",
            "Emojis in customer emails turn into question marks.",
        ],
        "detail": [
            "Steps: open {feature}, try to {action}, see {error}.",
            "This happens in {browser}.",
            "It worked yesterday, so something changed on your side.",
            "I can reproduce it every time.",
            "Expected: the change is saved. Actual: {error}.",
            "We are on version 4.2.1 of the desktop app.",
        ],
    },
    "feature_request": {
        "core": [
            "It would be great if you could add {wish}.",
            "Do you have plans to support {wish}? It's the one thing we miss.",
            "Feature request: {wish}.",
            "Could you consider adding {wish} to the {plan} plan?",
            "We would love {wish}, our agents keep asking for it.",
            "Suggestion: let us choose the default view of {feature}.",
            "Please add an option to hide closed tickets from {feature}.",
            "Any chance of {wish} in the next release?",
            "our team would really benefit from {wish}",
            "I'd like to request {wish}, competitors already have it.",
            "Is it on the roadmap to allow custom colours per team in {feature}?",
            "It would help a lot if macros could set several fields at once.",
            "Can we get an option to export {feature} as PDF?",
            "I wish there was a way to undo sending a reply for a few seconds.",
        ],
        "detail": [
            "We would even pay extra for it.",
            "Right now we work around it with a spreadsheet.",
            "It would save each agent about an hour a week.",
            "Happy to join a beta if you build it.",
            "Several other customers in the community forum asked for the same.",
            "This is not urgent, just an idea.",
        ],
    },
    "shipping": {
        "core": [
            "My order {order} still hasn't arrived, it's been {days} weeks.",
            "The tracking number from {carrier} says delivered but there is no parcel.",
            "Can I change the delivery address for order {order}? I moved last week.",
            "The package arrived damaged, the box was crushed and the device is scratched.",
            "Tracking for {order} hasn't updated in {days} days.",
            "I received the wrong item in my order {order}.",
            "How long does shipping to Canada usually take?",
            "{carrier} tried to deliver while I was out, how do I rearrange delivery?",
            "Only one of the two boxes arrived, where is the rest of order {order}?",
            "we need the hardware before monday, can you ship express",
            "The customs fees were not mentioned at checkout, who pays them?",
            "My parcel has been stuck in the sorting center for a week.",
            "Please send a return label, the shipment came with a missing cable.",
            "The delivery was marked as failed but nobody rang the bell.",
        ],
        "detail": [
            "The order number is {order}.",
            "I paid for express shipping.",
            "The carrier says they can't help and I should contact you.",
            "We need it for a customer event next week.",
            "I attached a photo of the box.",
            'Tracking link: it only shows "label created".',
        ],
    },
    "account_changes": {
        "core": [
            "Please change the {field} on our account.",
            "How do I transfer ownership of the workspace to my colleague?",
            "I want to delete my account and all my data.",
            "Can you merge our two workspaces into one?",
            "We rebranded, please update the company name to the new one everywhere.",
            "I need to change my {field}, the settings page doesn't let me.",
            "Please remove a former employee from our team, she left the company.",
            "How can I change the owner of the account? The current owner left.",
            "we want to switch the workspace URL to our new domain",
            "Can I move my personal account to my company's workspace?",
            "Please add a second admin to our account.",
            "I'd like to change the language of the account to German.",
            "Update our {field} please, the old one is no longer valid.",
            "How do I close our account at the end of the contract?",
        ],
        "detail": [
            "I am the account owner.",
            "Our legal team requires this for compliance.",
            "The new {field} should be used from next month.",
            "Please confirm when it's done.",
            "We still want to keep the ticket history.",
            "I can send a signed letter if you need proof.",
        ],
    },
    "performance": {
        "core": [
            "The dashboard takes {seconds} to load every time.",
            "Everything is very slow today, each click takes several seconds.",
            "{feature} is extremely slow since this morning.",
            "Searching tickets takes {seconds}, it used to be instant.",
            "The app freezes for a while whenever a new ticket comes in.",
            "Pages load really slowly for our agents in Asia.",
            "Opening a ticket with many messages takes {seconds}.",
            "the inbox is lagging so badly that typing a reply is painful",
            "Reports time out when we select more than one month.",
            "The mobile app is sluggish and the battery drains fast.",
            "Loading the customer list with 20,000 contacts takes forever.",
            "Our agents complain that switching between tickets is slow.",
            "Performance has been degrading all week, especially in the afternoon.",
            "Uploading is slow, a 1 MB file takes {seconds}.",
        ],
        "detail": [
            "Our internet connection is fine, other sites are fast.",
            "It is slow in {browser} too.",
            "Twelve agents are affected.",
            "It gets worse around noon.",
            "Our customers are waiting longer because of it.",
            "Is there an outage or maintenance going on?",
        ],
    },
    "how_to": {
        "core": [
            "How do I set up an automatic reply for tickets outside business hours?",
            "Where can I find the setting to change the email signature?",
            "Is there a way to assign tickets automatically to the right team?",
            "How can I import my contacts from a spreadsheet?",
            "Can you explain how SLA policies work?",
            "What's the best way to organise tags for a team of 10 agents?",
            "How do I connect our support email address so emails become tickets?",
            "how can i create a macro that closes a ticket and sends a survey",
            "Where do I add a custom field to the ticket form?",
            "Is it possible to embed the help center in our website?",
            "How do I give an agent read-only access?",
            "Can I schedule a report to be sent every Monday?",
            "Where can I see how many tickets each agent solved last week?",
            "How do I set up the live chat widget on our site?",
            'What does the "pending" status mean and when should we use it?',
        ],
        "detail": [
            "I looked in the help center but couldn't find it.",
            "We are new to the product.",
            "A short video or guide would be perfect.",
            "We are on the {plan} plan if that matters.",
            "Our previous tool did this differently.",
            "I'm setting this up for our team of eight.",
        ],
    },
}

# Category-neutral context real tickets carry: it makes the texts longer and the categories less keyword-obvious.
CONTEXT = [
    "We are a team of {days} agents and use Switchboard every day.",
    "I'm writing on behalf of our customer service department.",
    "Our company switched to your product {days} months ago.",
    "I already asked a colleague but she didn't know either.",
    "We are on the {plan} plan.",
    "I tried to find the answer myself first.",
    "This is the second time I write about this.",
    "Our manager asked me to contact you about it.",
    "We work with customers in Germany, France and the UK.",
    "I hope this is the right place to ask.",
]
GREETINGS = ["Hi,", "Hello,", "Hi team,", "Hello support,", "Hey there,", "Good morning,", "Dear support team,"]
URGENCY = [
    "This is urgent.",
    "Please help asap!",
    "Any help is appreciated.",
    "Thanks in advance for looking into it.",
    "Please get back to me today if possible.",
    "Not urgent, but it's annoying.",
]
CLOSINGS = ["Thanks,\n{name}", "Best regards,\n{name}", "Cheers, {name}", "Thank you!", "Regards\n{name}", "{name}"]


def fill(template: str, rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(SLOTS[m.group(1)]), template)


def add_typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def compose(category: str, core: str, rng: random.Random) -> str:
    pool = CATEGORIES[category]
    body = [fill(core, rng)]
    if rng.random() < 0.35:
        body.insert(0, fill(rng.choice(CONTEXT), rng))
    details = rng.sample(pool["detail"], k=2)
    if rng.random() < 0.75:
        body.append(fill(details[0], rng))
    if rng.random() < 0.35:
        body.append(fill(details[1], rng))
    if rng.random() < 0.3:
        body.append(rng.choice(URGENCY))
    text = " ".join(body)
    if rng.random() < 0.15:
        text = add_typo(text, rng)
    if rng.random() < 0.1:
        text = text.lower()
    if rng.random() < 0.1:
        text = text.rstrip(".!")
    parts = []
    if rng.random() < 0.5:
        parts.append(rng.choice(GREETINGS))
    parts.append(text)
    if rng.random() < 0.45:
        parts.append(fill(rng.choice(CLOSINGS), rng))
    return "\n".join(parts)


def generate() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    tickets: list[dict[str, str]] = []
    for category, pool in CATEGORIES.items():
        seen: set[str] = set()
        cores = pool["core"]
        attempts = 0
        while len(seen) < PER_CATEGORY and attempts < PER_CATEGORY * 20:
            attempts += 1
            index = len(seen) if len(seen) < len(cores) else rng.randrange(len(cores))
            text = compose(category, cores[index], rng)
            if text not in seen:
                seen.add(text)
                # `template` lets an evaluation hold out whole problem statements, not just their variations.
                tickets.append({"text": text, "label": category, "template": f"{category}/{index}"})
    rng.shuffle(tickets)
    return [{"id": f"t{i:04d}", **ticket} for i, ticket in enumerate(tickets, start=1)]


def main() -> None:
    tickets = generate()
    with (HERE / "tickets_labelled.jsonl").open("w") as out:
        for ticket in tickets:
            out.write(json.dumps(ticket, ensure_ascii=False) + "\n")
    print(f"wrote {len(tickets)} tickets")


if __name__ == "__main__":
    main()
