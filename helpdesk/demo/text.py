"""What demo tickets say: problem statements per category, the slots they fill, replies, notes and CSAT comments.

Written in the manner of ai/tests/data/make_tickets.py (greetings, context, details, urgency, sign-offs, typos,
lower-case typing) but with its own sentences, so a classifier trained on the demo history is not graded on
sentences it has already seen. `{slot}` names are filled from SLOTS; `{first}` is the requester's first name and
`{agent}` the replying agent's.
"""

# ruff: noqa: E501 (prose: sentences stay on one line so they read and diff as sentences)

from __future__ import annotations

SLOTS: dict[str, tuple[str, ...]] = {
    "amount": ("$49", "$118", "€79.00", "£42", "$1,180", "€24.99", "$315", "€560", "$89.50"),
    "plan": ("Business", "Pro", "Starter", "Enterprise", "Team", "Growth", "Plus"),
    "month": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October"),
    "invoice": ("INV-30211", "INV-1942", "#77120", "INV-2025-0918", "#51003", "INV-4410", "#60822"),
    "order": ("#20517", "#48211", "B-66190", "#31744", "SO-5820", "#8841", "#71236", "C-10299"),
    "carrier": ("DHL", "UPS", "FedEx", "the courier", "Royal Mail", "DPD", "GLS", "Hermes"),
    "days": ("three", "four", "five", "eight", "two", "six", "ten"),
    "count": ("6", "12", "15", "25", "40", "8", "3"),
    "feature": (
        "the reports page",
        "the CSV export",
        "the order history",
        "the admin console",
        "the mobile app",
        "the dashboard",
        "the customer portal",
        "the chat widget",
        "search",
        "the calendar integration",
        "the team inbox",
        "the invoice screen",
    ),
    "action": (
        "save my profile",
        "upload a file",
        "export to CSV",
        "add a new user",
        "change a setting",
        "open an order",
        "download an invoice",
        "create a report",
        "filter by date",
        "connect the calendar",
    ),
    "error": (
        "error 500",
        "a 504 Gateway Timeout",
        '"Oops, something went wrong"',
        "an empty white page",
        "error 401",
        '"Request failed with status code 400"',
        "a spinning wheel that never stops",
        '"Network error, please retry"',
    ),
    "browser": (
        "Chrome",
        "Firefox",
        "Safari",
        "Edge",
        "Chrome on a Mac",
        "Firefox on Ubuntu",
        "the iPhone app",
        "the Android app",
        "Edge on Windows 10",
    ),
    "wish": (
        "a dark theme",
        "two-factor login with security keys",
        "a Microsoft Teams integration",
        "bulk editing",
        "saved filters that can be shared",
        "a weekly summary email",
        "webhooks for new orders",
        "more than one billing contact",
        "an audit log export",
        "custom roles",
        "a public status page",
        "recurring reports",
        "a Spanish version of the portal",
    ),
    "field": (
        "billing email",
        "company name",
        "postal address",
        "phone number",
        "VAT ID",
        "display name",
        "time zone",
        "login email",
        "tax exemption certificate",
    ),
    "seconds": ("15 seconds", "almost a minute", "over 40 seconds", "20-30 seconds", "two minutes", "8 seconds"),
}

# category key → (name, description the AI compares tickets with, team key, ticket type weights, priority weights)
CATEGORIES: dict[str, dict] = {
    "billing": {
        "name": "Billing",
        "description": "Billing: invoices, payments, charges, refunds, subscription price, payment method.",
        "team": "billing",
        "types": {"question": 55, "incident": 25, "task": 20},
        "priorities": {"low": 15, "normal": 60, "high": 20, "urgent": 5},
        "tags": ("invoice", "refund", "double-charge", "payment-method", "vat", "renewal"),
    },
    "login": {
        "name": "Login & access",
        "description": "Login and access: cannot sign in, password reset, two-factor code, locked account, invites.",
        "team": "technical",
        "types": {"incident": 60, "question": 30, "problem": 10},
        "priorities": {"low": 5, "normal": 45, "high": 35, "urgent": 15},
        "tags": ("sso", "2fa", "password-reset", "locked-out", "invite"),
    },
    "bug": {
        "name": "Bug report",
        "description": "Bug: something is broken, an error message, a crash, a feature that does not work as it should.",
        "team": "technical",
        "types": {"incident": 55, "problem": 40, "question": 5},
        "priorities": {"low": 10, "normal": 45, "high": 32, "urgent": 13},
        "tags": ("regression", "mobile", "export", "ui", "data-issue", "known-issue"),
    },
    "feature_request": {
        "name": "Feature request",
        "description": "Feature request: a suggestion or wish for new functionality, an idea for the product roadmap.",
        "team": "frontline",
        "types": {"task": 70, "question": 30},
        "priorities": {"low": 60, "normal": 38, "high": 2, "urgent": 0},
        "tags": ("roadmap", "integration", "ux", "reporting"),
    },
    "shipping": {
        "name": "Shipping & delivery",
        "description": "Shipping: delivery of an order, parcel, tracking number, courier, damaged or missing package.",
        "team": "frontline",
        "types": {"incident": 50, "question": 40, "task": 10},
        "priorities": {"low": 10, "normal": 55, "high": 28, "urgent": 7},
        "tags": ("tracking", "damaged", "return", "address-change", "customs"),
    },
    "account_changes": {
        "name": "Account changes",
        "description": "Account changes: change account details, owner, company name, add or remove users, close account.",
        "team": "frontline",
        "types": {"task": 65, "question": 35},
        "priorities": {"low": 30, "normal": 60, "high": 9, "urgent": 1},
        "tags": ("ownership", "gdpr", "seats", "rename", "offboarding"),
    },
    "performance": {
        "name": "Performance",
        "description": "Performance: the app is slow, pages load slowly, lag, freezes, timeouts.",
        "team": "technical",
        "types": {"incident": 60, "problem": 35, "question": 5},
        "priorities": {"low": 5, "normal": 45, "high": 35, "urgent": 15},
        "tags": ("slow", "timeout", "outage", "mobile", "reports"),
    },
    "how_to": {
        "name": "How-to question",
        "description": "How-to question: how to set up, configure or use a feature, where to find a setting.",
        "team": "frontline",
        "types": {"question": 90, "task": 10},
        "priorities": {"low": 35, "normal": 60, "high": 5, "urgent": 0},
        "tags": ("setup", "configuration", "onboarding", "integration"),
    },
}

# How often each category comes in (per 100 tickets).
CATEGORY_WEIGHTS = {
    "billing": 17,
    "login": 14,
    "bug": 16,
    "feature_request": 7,
    "shipping": 12,
    "account_changes": 10,
    "performance": 8,
    "how_to": 16,
}

# Each problem: (subject variants, body statement). Subjects are what people type in the subject line.
PROBLEMS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "billing": [
        (
            ("Double charge", "Charged twice this month", "two payments taken??"),
            "We were billed twice for the {plan} plan this month, both payments show on the card.",
        ),
        (
            ("Invoice amount wrong", "Invoice {invoice} too high"),
            "Invoice {invoice} says {amount} but we agreed on a lower price when we signed.",
        ),
        (
            ("Refund request", "Refund for {month}"),
            "We cancelled before the renewal date, so please refund the {month} payment of {amount}.",
        ),
        (
            ("Wrong company details on invoice", "Please correct invoice {invoice}"),
            "The company name and the VAT ID on invoice {invoice} are the old ones.",
        ),
        (
            ("Unexpected charge", "what is this charge of {amount}?"),
            "There is a charge of {amount} on our card today and nobody here upgraded anything.",
        ),
        (
            ("Still billed after downgrade", "Downgrade not reflected on invoice"),
            "We moved from {plan} to a smaller plan last month but the invoice still shows the old price.",
        ),
        (
            ("Update credit card", "New payment method"),
            "our company card was replaced, how do we put the new one in before the next invoice goes out",
        ),
        (
            ("Copies of all invoices", "Invoices for our accountant"),
            "Our accountant needs every invoice from the last twelve months as PDF.",
        ),
        (
            ("Account marked past due", "Payment failed but money is gone"),
            "The account now says past due although the payment of {amount} left our bank on the 3rd.",
        ),
        (
            ("Cancel auto-renewal", "Stop renewal please"),
            "Please switch off the automatic renewal, we do not want to be charged {amount} again.",
        ),
        (
            ("Invoice in wrong currency", "Billed in EUR instead of USD"),
            "Our invoice is in euros but our contract says we pay in dollars.",
        ),
        (
            ("Nonprofit discount?", "Discount for charities"),
            "We are a registered charity, is there a discount on the {plan} plan?",
        ),
        (
            ("Seat count on invoice wrong", "Billed for too many users"),
            "you billed us for {count} seats but only half of them are actually in use",
        ),
        (
            ("Pro-rata charge looks wrong", "Upgrade invoice question"),
            "The upgrade invoice charges {amount} for half a month, that does not add up for us.",
        ),
    ],
    "login": [
        (
            ("Can't log in", "Login not working", "cannot sign in"),
            "I can't sign in, it says the password is wrong even right after I reset it.",
        ),
        (
            ("Password reset email missing", "No reset email"),
            "The password reset email never arrives, it is not in spam either.",
        ),
        (
            ("Lost phone - 2FA", "Two-factor codes lost"),
            "I have a new phone and the authenticator app is gone, so I can't get a login code.",
        ),
        (
            ("Account locked", "Locked out after attempts"),
            "My account got locked after a few wrong attempts, can you unlock it please?",
        ),
        (
            ("SSO broken for everyone", "Google sign-in fails"),
            "Signing in with Google stopped working for our entire team this morning.",
        ),
        (
            ("Login loop", "Redirected back to login"),
            "After entering my details I land on the login page again, over and over.",
        ),
        (
            ("Invite link expired", "Cannot join workspace"),
            "the invite link from my manager says it has expired and I cannot join",
        ),
        (
            ("Invalid credentials error", "Says credentials invalid"),
            'I get "invalid credentials" although the password is definitely correct.',
        ),
        (
            ("New colleague has no invite", "Invitation email not received"),
            "Our new colleague never got the invitation email, so she has no access yet.",
        ),
        (
            ("2FA code rejected", "Authenticator code not accepted"),
            "Every code from the authenticator app is rejected, is the clock off somewhere?",
        ),
        (
            ("Can't log in after email change", "Login broken after changing email"),
            "I changed my login email yesterday and now neither the old nor the new one works.",
        ),
        (
            ("SAML error", "Okta login failing"),
            "Login through our identity provider fails with a SAML error since last night.",
        ),
        (
            ("Logged out all the time", "Session keeps expiring"),
            "I get logged out every few minutes and have to sign in again each time.",
        ),
    ],
    "bug": [
        (("Error when saving", "{error} when I {action}"), "Whenever I try to {action} I get {error}."),
        (("{feature} crashes", "Crash on open"), "{feature} crashes right after it opens."),
        (("File upload fails", "Uploads broken"), "Files over 5 MB fail to upload and show {error}."),
        (
            ("Dates off by one day", "Wrong dates shown"),
            "Since the last update all dates in {feature} are one day early.",
        ),
        (
            ("Save button does nothing", "Changes not saved"),
            "Pressing Save just spins forever and my changes are gone afterwards.",
        ),
        (
            ("Export missing columns", "CSV export broken"),
            "The CSV export is missing the last two columns and accents come out garbled.",
        ),
        (
            ("{error} everywhere since update", "Broken after release"),
            "Since your release yesterday {feature} shows {error} for all of us.",
        ),
        (("Emails sent twice", "Duplicate notifications"), "Our customers receive every notification email twice."),
        (
            ("Filter ignores selection", "Filters not working"),
            "The date filter in {feature} ignores what I select and shows everything.",
        ),
        (("Images broken", "Pictures not loading"), "Images in {feature} show as broken icons since this week."),
        (
            ("Wrong item opens", "Links go to wrong record"),
            "Clicking a notification opens a different record than the one it mentions.",
        ),
        (
            ("Dropdown empty", "no options in dropdown"),
            "the category dropdown is empty even though we set up {count} categories",
        ),
        (
            ("Sorting wrong", "Sort order broken"),
            "Sorting by name puts everything starting with a lower case letter at the bottom.",
        ),
        (
            ("Special characters broken", "Umlauts turn into ???"),
            "Names with umlauts or emojis turn into question marks after saving.",
        ),
    ],
    "feature_request": [
        (("Feature request: {wish}", "Suggestion"), "It would be really useful to have {wish}."),
        (
            ("Any plans for {wish}?", "Roadmap question"),
            "Is {wish} on your roadmap? It is the one thing we are missing.",
        ),
        (("Idea for {feature}", "Small improvement idea"), "Could you let us pick the default view of {feature}?"),
        (("Request: {wish}", "Would love {wish}"), "Our team keeps asking for {wish}, please consider it."),
        (("PDF export", "Export as PDF please"), "Could {feature} be exported as PDF as well as CSV?"),
        (
            ("Hide archived items", "Option to hide old records"),
            "Please add an option to hide archived records from {feature}.",
        ),
        (
            ("Undo send", "Undo button request"),
            "An undo for a few seconds after sending would save us from embarrassing mistakes.",
        ),
        (
            ("{wish} for {plan} plan?", "Feature availability on plan"),
            "Could {wish} be included in the {plan} plan, not only in the top tier?",
        ),
        (
            ("Competitors have {wish}", "Missing feature"),
            "i'd like to request {wish}, other tools we looked at already offer it.",
        ),
        (
            ("Custom colours per team", "Team colours"),
            "Being able to give each team its own colour in {feature} would help us a lot.",
        ),
    ],
    "shipping": [
        (
            ("Order {order} not arrived", "Where is my order?", "order still missing"),
            "Order {order} still has not arrived and it has been {days} weeks.",
        ),
        (
            ("Tracking says delivered but nothing came", "Parcel not received"),
            "{carrier} says the parcel was delivered but there is nothing here.",
        ),
        (
            ("Change delivery address", "Address change for {order}"),
            "Can you send order {order} to our new office instead? We moved last week.",
        ),
        (
            ("Damaged delivery", "Package arrived broken"),
            "The box arrived crushed and the device inside has a cracked screen.",
        ),
        (
            ("Tracking not updating", "No tracking updates for {order}"),
            "Tracking for {order} has not changed in {days} days.",
        ),
        (
            ("Wrong item received", "Wrong product in order {order}"),
            "We received a different model than the one in order {order}.",
        ),
        (
            ("Shipping time to Canada", "How long is delivery?"),
            "How long does delivery to Canada usually take, and is it tracked?",
        ),
        (
            ("Missed delivery", "Rearrange delivery"),
            "{carrier} came while nobody was in the office, how can we rebook the delivery?",
        ),
        (("Only part of order arrived", "Second box missing"), "Only one of the two boxes of order {order} arrived."),
        (
            ("Express shipping needed", "urgent delivery"),
            "we need the replacement unit before monday, can it go express",
        ),
        (
            ("Customs fees", "Unexpected import charges"),
            "We were asked to pay customs fees on delivery, nobody mentioned that at checkout.",
        ),
        (
            ("Return label please", "Return for {order}"),
            "Please send a return label, the package came without the power cable.",
        ),
    ],
    "account_changes": [
        (("Change {field}", "Update our {field}"), "Please update the {field} on our account."),
        (
            ("Transfer account ownership", "New account owner"),
            "How do I make my colleague the owner of the account? I am leaving the company.",
        ),
        (
            ("Delete my account", "Account deletion request"),
            "Please delete my account and all personal data you hold about me.",
        ),
        (
            ("Merge two accounts", "We have two accounts"),
            "We accidentally ended up with two accounts, can you merge them into one?",
        ),
        (
            ("Company renamed", "New company name"),
            "We have rebranded, please change our company name everywhere including invoices.",
        ),
        (
            ("Remove former employee", "Offboarding a user"),
            "Please remove a former employee from our account, he left last Friday.",
        ),
        (("Add another admin", "Second administrator"), "Can you give a second person admin rights on our account?"),
        (("Change account language", "Language setting"), "I would like the account and all emails in German, please."),
        (
            ("Close account at contract end", "Cancel our account"),
            "How do we close the account when our contract ends in {month}?",
        ),
        (
            ("Move users between accounts", "Move user to other account"),
            "Can we move {count} users from our old account to the new one?",
        ),
        (
            ("Can't edit {field}", "{field} field is locked"),
            "i need to change our {field} but the settings page won't let me",
        ),
    ],
    "performance": [
        (("Dashboard very slow", "Slow dashboard"), "The dashboard takes {seconds} to load, every single time."),
        (
            ("Everything slow today", "App is slow"),
            "Everything is really slow today, each click takes several seconds.",
        ),
        (
            ("{feature} extremely slow", "Slowness in {feature}"),
            "{feature} has been extremely slow since this morning.",
        ),
        (("Search takes forever", "Slow search"), "Searching takes {seconds}, it used to be instant."),
        (("App freezes", "Freezing"), "The app freezes for a while whenever new data comes in."),
        (
            ("Slow for our Asia office", "Latency in Singapore"),
            "Pages load very slowly for our colleagues in Singapore.",
        ),
        (("Reports time out", "Report timeout"), "Reports time out when we pick a date range longer than a month."),
        (("Mobile app sluggish", "Android app slow"), "The mobile app is sluggish and drains the battery fast."),
        (
            ("Loading big lists is slow", "Slow with many records"),
            "Opening a list with a few thousand records takes {seconds}.",
        ),
        (
            ("Performance getting worse", "Slower every day"),
            "Performance has been getting worse all week, especially in the afternoon.",
        ),
        (("Uploads slow", "Upload speed"), "Uploading is painfully slow, a 2 MB file takes {seconds}."),
    ],
    "how_to": [
        (
            ("How to set up an auto-reply?", "Out-of-office reply"),
            "How do I set up an automatic reply for messages outside office hours?",
        ),
        (
            ("Where is the signature setting?", "Email signature"),
            "Where can I change the email signature for the whole team?",
        ),
        (("Import contacts from Excel", "How to import contacts"), "How can I import our contacts from an Excel file?"),
        (("How do permissions work?", "Read-only user"), "How do I give a colleague read-only access?"),
        (
            ("Schedule a report", "Weekly report by email"),
            "Can I get a report emailed to me automatically every Monday?",
        ),
        (
            ("Where do I find usage stats?", "Usage statistics"),
            "Where can I see how much each team member used the product last month?",
        ),
        (
            ("Embed portal on our website", "Embedding question"),
            "Is it possible to embed the customer portal in our own website?",
        ),
        (("Set up chat widget", "How to add the chat widget"), "How do I put the chat widget on our website?"),
        (("Custom fields", "Adding a custom field"), "where do i add a custom field to the order form"),
        (
            ("What does pending mean?", "Status meanings"),
            'What does the "pending" status mean and when should we use it?',
        ),
        (("Connect our calendar", "Calendar sync setup"), "How do I connect our Outlook calendar to {feature}?"),
        (("API access", "How to get an API key"), "How do we get an API key to connect our own system?"),
    ],
}

DETAILS: dict[str, tuple[str, ...]] = {
    "billing": (
        "Our bank statement shows both transactions.",
        "Finance needs this sorted before month end.",
        "I attached a screenshot of the card statement.",
        "The invoice number is {invoice}.",
        "We have been customers for years and this never happened before.",
        "Our purchase order has to match the invoice exactly.",
    ),
    "login": (
        "I tried it in {browser} and in a private window as well.",
        "A colleague of mine has the same problem.",
        "I already cleared cookies and cache.",
        "It worked fine until yesterday.",
        "We can't serve our customers while we're locked out.",
        "My login is my work email address.",
    ),
    "bug": (
        "Steps: open {feature}, try to {action}, you get {error}.",
        "It happens in {browser}.",
        "It worked last week, so something changed on your side.",
        "I can reproduce it every time.",
        "Expected: it works. What happens: {error}.",
        "We use {browser}, latest version.",
    ),
    "feature_request": (
        "We would even pay a bit more for it.",
        "At the moment we work around it with a spreadsheet.",
        "It would save each of us an hour a week.",
        "Happy to test a beta version.",
        "Others in your community forum asked for it too.",
        "Not urgent at all, just an idea.",
    ),
    "shipping": (
        "The order number is {order}.",
        "I paid extra for express delivery.",
        "{carrier} told me to contact you about it.",
        "We need it for an event next week.",
        "I attached a photo of the package.",
        'The tracking page only says "label created".',
    ),
    "account_changes": (
        "I am the current account owner.",
        "Our legal department requires this.",
        "The change should apply from next month.",
        "Please confirm once it is done.",
        "We want to keep all of our history.",
        "I can send a signed letter if you need proof.",
    ),
    "performance": (
        "Our internet is fine, other websites are fast.",
        "It is just as slow in {browser}.",
        "About {count} of us are affected.",
        "It gets worse around lunchtime.",
        "Our own customers are waiting longer because of it.",
        "Is there an outage or maintenance going on?",
    ),
    "how_to": (
        "I searched the help center but couldn't find it.",
        "We only started using the product recently.",
        "A short guide or video would be perfect.",
        "We are on the {plan} plan if that matters.",
        "Our old tool worked differently.",
        "I am setting this up for a team of {count}.",
    ),
}

CONTEXT = (
    "We are a team of {count} and use your product every day.",
    "I'm writing on behalf of our operations team.",
    "We switched to you {days} months ago.",
    "I asked a colleague first but she didn't know either.",
    "We are on the {plan} plan.",
    "I tried to figure it out myself first.",
    "This is the second time I am writing about this.",
    "My manager asked me to get in touch.",
    "Hope this is the right address for this.",
)
GREETINGS = ("Hi,", "Hello,", "Hi team,", "Hello support,", "Hey,", "Good morning,", "Dear support team,", "Hi there,")
URGENCY = (
    "This is urgent.",
    "Please help asap!",
    "Any help appreciated.",
    "Thanks in advance.",
    "Please get back to me today if you can.",
    "Not urgent, but annoying.",
)
CLOSINGS = (
    "Thanks,\n{first}",
    "Best regards,\n{first}",
    "Cheers, {first}",
    "Thank you!",
    "Regards\n{first}",
    "{first}",
)
# Words that make a ticket read as upset: their presence sets the demo sentiment to negative.
NEGATIVE_MARKERS = ("urgent", "asap", "second time", "never happened", "annoying", "crushed", "cracked", "??")

# --- The thread --------------------------------------------------------------------------------------------

AGENT_GREETINGS = ("Hi {first},", "Hello {first},", "Dear {first},")
FIRST_GREETINGS = (
    *AGENT_GREETINGS,
    "Hi {first}, thanks for reaching out.",
    "Hello {first}, thanks for getting in touch.",
)
AGENT_SIGNOFFS = ("Best,\n{agent}", "Kind regards,\n{agent}", "Thanks,\n{agent}", "{agent}")

FIRST_REPLIES: dict[str, tuple[str, ...]] = {
    "billing": (
        "Sorry about the trouble. I'm looking at your account's invoices and payment history now.",
        "Thanks for flagging this. I've pulled up your subscription and I'm checking it against your contract.",
        "Thanks for your message. I've passed this to our billing team and will update you as soon as they reply.",
    ),
    "login": (
        "Sorry you're locked out. I've checked your account and it is active; could you tell me which sign-in method you use?",
        "Thanks for the details. Could you try the reset link I just sent you in a private browser window?",
        "I can see several failed attempts on the account. I've cleared the lock, please try again now.",
    ),
    "bug": (
        "Thanks for the report. I can reproduce this on our side and have passed it to our engineers.",
        "Sorry about that. Could you send a screenshot and the time it happened so we can find it in the logs?",
        "Thanks, this is a known issue since the last release and a fix is being prepared.",
    ),
    "feature_request": (
        "Thanks for the suggestion! I've added your vote to the request on our roadmap.",
        "Great idea, thank you. I've shared it with our product team.",
        "Thanks for taking the time to write this up. Could you tell me a bit more about how you'd use it?",
    ),
    "shipping": (
        "Thanks for getting in touch. I've pulled up your order and I'm checking with our warehouse.",
        "Thanks for letting us know. Could you confirm the order number and the delivery address for me?",
        "Sorry for the trouble with your delivery. I've contacted the carrier and will update you as soon as I hear back.",
    ),
    "account_changes": (
        "Happy to help with that. For security, could you confirm the request from the account owner's address?",
        "Thanks, I can make that change for you. I just need to verify a couple of details first.",
        "Got it. Before we proceed, could you confirm the name of the person who should take over?",
    ),
    "performance": (
        "Sorry about the slowness. We're seeing higher load in your region and our engineers are on it.",
        "Thanks for reporting this. Could you run the speed test at status page → diagnostics and send the result?",
        "I've checked our monitoring and response times are up for some accounts; I'll keep you posted.",
    ),
    "how_to": (
        "Good question! You'll find it under Settings → General. Let me know if you can't see it there.",
        "Happy to help. I've linked a short guide below that walks through it step by step.",
        "Sure, here's how: open the menu at the top right, choose Settings, then the tab you need.",
    ),
}
FOLLOW_UPS = (
    "Quick update: we're still working on this and I'll get back to you as soon as I hear more.",
    "I've escalated this to our second-line team, they'll look at it today.",
    "Could you confirm whether this is still happening on your side?",
    "Thanks for your patience, we've found the cause and are testing the fix.",
    "Just checking in: did the steps I sent help?",
)
RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "billing": (
        "All sorted: I've made the change on your account and you'll see it on your next invoice.",
        "Our billing team has corrected this; any amount due back to you is refunded within 5 business days.",
        "I've updated your subscription and emailed you a confirmation with the details.",
    ),
    "login": (
        "I've reset the sign-in settings on your account; you should be able to log in again now.",
        "The fix for the sign-in issue is live, please try again and let me know if it works.",
        "You should be able to get in again now: I've cleared the block on the account and sent a fresh link.",
    ),
    "bug": (
        "The fix has been deployed, you should no longer see the error.",
        "Our engineers fixed this in today's release. Thanks again for the detailed report!",
        "We've corrected the affected records on our side, everything should look right now.",
    ),
    "feature_request": (
        "I'll close this ticket for now; we'll let you know when the feature ships.",
        "Good news: this is part of next quarter's plan. I'll mark this as done on our side.",
    ),
    "shipping": (
        "I've sorted this with our warehouse and the carrier; you'll get an email with the updated details shortly.",
        "Good news: the carrier has confirmed the new arrangement, so you should be all set now.",
        "This is now taken care of. Any refund or replacement follows automatically, you don't need to do anything.",
    ),
    "account_changes": (
        "Done! The change is made and you'll see it on your next invoice too.",
        "All set: the change is live and the account owner received a confirmation email.",
        "That's done now. Let me know if anything else on the account needs updating.",
    ),
    "performance": (
        "The slowdown was caused by a database issue on our side, fixed as of this morning.",
        "We've moved your account to a less busy server, pages should load fast again.",
        "The report timeout is fixed; long date ranges now load in a few seconds.",
    ),
    "how_to": (
        "I hope that helps! I'll close this ticket, but just reply if anything is unclear.",
        "Here's the help center article with screenshots. Let me know if you get stuck.",
    ),
}
CUSTOMER_FOLLOW_UPS = (
    "Thanks for the quick reply. Here is the screenshot you asked for.",
    "any update on this?",
    "I tried that but it's still the same, unfortunately.",
    "Hi, just following up on this. We're still waiting.",
    "Thanks! One more question: does this also apply to my colleagues?",
    "Yes, that's the right account. Please go ahead.",
    "It worked for a moment but now it's back.",
    "Hello? This is taking a while...",
)
CUSTOMER_THANKS = (
    "That worked, thank you so much!",
    "Perfect, thanks for your help.",
    "Great, all good now. Thanks!",
    "thanks, confirmed it's fixed",
)
NOTES: dict[str, tuple[str, ...]] = {
    "billing": (
        "Checked Stripe: two charges on the same day, second one refunded.",
        "Asked finance to re-issue the invoice.",
    ),
    "login": (
        "Account was locked by the brute-force protection, cleared it.",
        "SSO misconfigured on their side (wrong ACS URL).",
    ),
    "bug": ("Reproduced on staging. Linked to the engineering issue.", "Same root cause as last week's export bug."),
    "feature_request": ("Added +1 to the roadmap item.", "Product team says this is planned but not scheduled."),
    "shipping": (
        "Opened claim with the carrier, reference in the order notes.",
        "Warehouse confirms the parcel left on time.",
    ),
    "account_changes": (
        "Verified the requester is the account owner via callback.",
        "Needs legal approval before deletion.",
    ),
    "performance": (
        "Matches the DB incident this morning.",
        "Their account is on the busiest shard, asked ops to move it.",
    ),
    "how_to": ("Good candidate for a help center article.", "Sent them the setup guide."),
}
PENDING_QUESTIONS = (
    "Could you send us a screenshot of what you see? I'll set this ticket to pending until then.",
    "Could you confirm the order number and the delivery address? Waiting for your reply.",
    "Please let me know once you've had a chance to try this.",
)
UNANSWERED_NUDGES = ("Any news on this?", "Adding a screenshot of the problem.", "Still happening this morning.")
CSAT_COMMENTS = {
    5: ("Super fast and friendly, thanks!", "Solved in no time.", "Great support as always.", ""),
    4: ("Good help, took a little while.", "Thanks, all sorted.", ""),
    3: ("Fixed in the end, but I had to follow up twice.", "OK.", ""),
    2: ("Took far too long.", "I had to explain the problem three times."),
    1: ("Nobody answered for days.", "Still not really fixed.", "Very disappointing."),
}
