"""The console's journeys in a real browser against the real binary (docs/CONSOLE.md): an admin's first
sign-in and a directory edit that changes where the next message goes (a safeguarding change, so
proposed and approved by a second admin), a concurrent edit refused, an
operator acknowledging an alert, message search scoped to the operator's organisation (another
organisation's message is a 404 and is audited), forged and cross-origin forms refused, a viewer kept
out of the editor, stored markup shown as text, a TOTP code refused the second time, and a
keyboard-only sign-in. Every page is checked for one h1, labelled controls and reflow at 320 px, and
photographed at 320 and 1280 px."""
import pathlib
import time

import yaml

from conftest import OIDC_PERSON, check_page, sign_in


def send(broker, to, subject, workflow="SAFEGUARDING_ADULT_REFERRAL", body=b"referral about a person"):
    with broker.mesh("RX1DISCH") as hospital:
        return hospital.send_message(to, body, workflow_id=workflow, subject=subject)


def inbox(broker, mailbox):
    with broker.mesh(mailbox) as client:
        return client.list_messages()


DISCHARGE_BUNDLE = pathlib.Path(__file__).parent.parent / "Fixtures" / "fhir" / "toc-discharge-summary-r4.json"
HTML_PAYLOAD = b"<html><body><script>document.title='pwned'</script><h1>Referral</h1></body></html>"


def audit_actions(broker):
    entries = broker.admin_get("audit?limit=1000").json()["entries"]
    return [(e["actor"], e["action"], e["subject"]) for e in entries]


def approve_as_second_admin(page, broker, proposal_url, shot=None):
    """Another admin, in a browser of their own, opens the proposal and approves it into force."""
    person = broker.people.get("second.admin@handover.example") or broker.create_user(
        "second.admin@handover.example", "Second Admin", "admin")
    context = page.context.browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    other = context.new_page()
    sign_in(other, broker, person)
    other.goto(broker.url + "/console/directory")
    assert other.get_by_role("heading", name="Waiting for a second admin").is_visible()
    other.goto(proposal_url.split("?")[0])
    if shot:
        check_page(other, shot)
    other.get_by_role("button", name="Approve and apply").click()
    applied = other.url
    context.close()
    return applied


def test_admin_signs_in_edits_the_directory_and_the_next_message_goes_there(page, broker):
    sign_in(page, broker, broker.admin)
    assert page.url.endswith("/console/directory")
    check_page(page, "directory")
    page.get_by_role("link", name="History").click()
    check_page(page, "directory-history")

    page.goto(broker.url + "/console/directory/edit")
    check_page(page, "directory-edit")
    document = yaml.safe_load(page.get_by_label("The directory (YAML)", exact=False).input_value())
    document["areas"].append({"code": "E06000099", "name": "Newtown", "postcode_districts": ["NT1"]})
    document["services"].append({
        "id": "newtown-adult-safeguarding", "organisation": "714", "mailbox": "LA714SAFE",
        "workflows": ["SAFEGUARDING_ADULT_REFERRAL"], "areas": ["E06000099"]})
    page.get_by_label("The directory (YAML)", exact=False).fill(yaml.safe_dump(document, sort_keys=False))
    page.get_by_role("button", name="Review changes").click()
    assert page.get_by_role("heading", name="Routing impact").is_visible()
    row = page.locator("tr", has_text="POSTCODE:NT1").first
    assert "opened" in row.inner_text()
    # A new service for a safeguarding workflow: a second admin must approve it.
    assert page.get_by_role("heading", name="Needs a second admin").is_visible()
    check_page(page, "directory-review")
    page.get_by_role("button", name="Apply").click()
    assert "/console/directory/proposals/" in page.url
    assert page.get_by_text("Your change is saved as proposal").is_visible()
    assert page.get_by_role("button", name="Withdraw").is_visible()
    assert page.get_by_role("button", name="Approve and apply").count() == 0
    check_page(page, "directory-proposal-own")
    assert broker.admin_get("directory/history").json()["versions"][0]["version"] == 1
    assert "applied=2" in approve_as_second_admin(page, broker, page.url, shot="directory-proposal")

    message_id = send(broker, "POSTCODE:NT1", "first to Newtown")
    assert message_id in inbox(broker, "LA714SAFE")
    # Recorded with both admins: the approver, approving the proposer's proposal.
    approved_by = "console:second.admin@handover.example, approving proposal "
    assert any(a.startswith(approved_by) and a.endswith(" by console:" + broker.admin["email"]) and b.startswith("directory.")
               and "newtown" in c for a, b, c in audit_actions(broker))

    # One entry in a form: Newtown also covers NT2; the review names the address it opens.
    page.goto(broker.url + "/console/directory")
    page.get_by_role("link", name="Edit area E06000099").click()
    check_page(page, "directory-entry")
    page.get_by_label("postcode districts").fill("[NT1, NT2]")
    page.get_by_role("button", name="Review changes").click()
    assert "opened" in page.locator("tr", has_text="POSTCODE:NT2").first.inner_text()
    page.get_by_role("button", name="Apply").click()
    assert "applied=3" in approve_as_second_admin(page, broker, page.url)
    assert send(broker, "POSTCODE:NT2", "second to Newtown") in inbox(broker, "LA714SAFE")


def test_a_concurrent_directory_edit_is_refused_showing_both(page, broker):
    sign_in(page, broker, broker.admin)
    other = page.context.new_page()
    page.goto(broker.url + "/console/directory/edit")
    other.goto(broker.url + "/console/directory/edit")
    for tab, name in ((other, "Second"), (page, "Third")):
        field = tab.get_by_label("The directory (YAML)", exact=False)
        document = yaml.safe_load(field.input_value())
        document["areas"][0]["name"] = f"Riverside City ({name} edit)"
        field.fill(yaml.safe_dump(document, sort_keys=False))
        tab.get_by_role("button", name="Apply").click()
    assert "applied=" in other.url
    assert page.get_by_role("heading", name="Someone else saved the directory").is_visible()
    assert "Third edit" in page.get_by_label("The directory (YAML)", exact=False).input_value()
    check_page(page, "directory-conflict")


def test_operator_acknowledges_an_alert_without_seeing_identities(page, broker):
    operator = broker.create_user("duty@riverside.example.org", "Dana Duty", "operator", "--organisation", "713")
    broker.create_user("night@riverside.example.org", "Nell Night", "operator", "--organisation", "713")
    message_id = send(broker, "POSTCODE:RV1", "Mrs Example Person, 12 High Street")
    deadline = time.time() + 30
    while not any(a["message_id"] == message_id for a in broker.admin_get("alerts").json()["alerts"]):
        assert time.time() < deadline, "no alert was raised"
        time.sleep(0.5)
    sign_in(page, broker, operator)
    assert page.url.endswith("/console/alerts")
    assert "Mrs Example Person" not in page.content()
    check_page(page, "alerts")
    page.locator("#alert-board a").first.click()
    assert page.get_by_text("nobody has accepted responsibility").first.is_visible()
    check_page(page, "alert")
    # Snooze first: repeats pause for an hour, the alert stays open.
    page.get_by_label("Reason").fill("Waiting for the ward to call back")
    page.get_by_label("For", exact=True).select_option(label="1 hour")
    page.get_by_role("button", name="Snooze").click()
    assert "alert_snoozed" in page.locator("ol.timeline").inner_text()
    assert page.locator("dl.facts").get_by_text("open", exact=True).is_visible()
    assert any(a == "console:duty@riverside.example.org" and b == "alert.snoozed" for a, b, _ in audit_actions(broker))
    page.get_by_label("Note").fill("On it: calling the ward now")
    page.get_by_role("button", name="Acknowledge").click()
    assert page.get_by_text("Acknowledged by").is_visible()
    assert page.get_by_text("Dana Duty").first.is_visible()
    assert any(a == "console:duty@riverside.example.org" and b == "alert.acknowledged" for a, b, _ in audit_actions(broker))
    # Reassign: handed to the night team's operator; the alert is otherwise as it was.
    page.get_by_label("Hand it to").select_option(label="Nell Night (713)")
    page.get_by_role("button", name="Reassign").click()
    assert "Nell Night" in page.locator("dl.facts").inner_text()
    assert "alert_reassigned" in page.locator("ol.timeline").inner_text()
    assert any(a == "console:duty@riverside.example.org" and b == "alert.reassigned" for a, b, _ in audit_actions(broker))
    # Escalate now: the second stage (due in an hour) fires at once.
    page.get_by_role("button", name="Escalate now").click()
    assert page.get_by_text("Stage 2 was brought forward and fires now.").is_visible()
    deadline = time.time() + 30
    while not any(a["message_id"] == message_id and a["stage"] == 2 for a in broker.admin_get("alerts").json()["alerts"]):
        assert time.time() < deadline, "the second stage did not fire"
        time.sleep(0.5)
    assert any(a == "console:duty@riverside.example.org" and b == "alert.escalated_now" for a, b, _ in audit_actions(broker))
    # Acknowledging is not accepting: responsibility stays pending, on the message's own page.
    page.get_by_role("link", name=message_id).click()
    assert "pending" in page.locator("dl.facts").inner_text()


def test_messages_are_scoped_to_the_operators_organisation(page, broker):
    riverside = send(broker, "POSTCODE:RV2", "to Riverside", body=HTML_PAYLOAD)
    hillside = send(broker, "POSTCODE:HL1", "to Hillside")
    sign_in(page, broker, broker.people["duty@riverside.example.org"])
    page.goto(broker.url + "/console/messages?workflow=SAFEGUARDING_ADULT_REFERRAL")
    content = page.content()
    assert riverside in content and hillside not in content
    check_page(page, "messages")
    page.get_by_role("link", name=riverside).click()
    assert page.get_by_role("heading", name=f"Message {riverside}").is_visible()
    check_page(page, "message")
    # The payload is untrusted: an attachment under a sandboxing CSP, byte for byte as sent, never inline.
    link = page.get_by_role("link", name="Download the payload")
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == HTML_PAYLOAD and "pwned" not in page.title()
    served = page.request.get(broker.url + f"/console/messages/{riverside}/payload")
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["content-type"] == "application/octet-stream" and served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert ("console:duty@riverside.example.org", "console.payload_downloaded", f"message {riverside}") in audit_actions(broker)
    assert page.request.get(broker.url + f"/console/messages/{hillside}/payload").status == 404
    response = page.goto(broker.url + f"/console/messages/{hillside}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert ("console:duty@riverside.example.org", "console.message_refused", f"message {hillside}") in audit_actions(broker)
    assert ("console:duty@riverside.example.org", "console.message_viewed", f"message {riverside}") in audit_actions(broker)


def test_forged_and_cross_origin_forms_are_refused(page, broker):
    sign_in(page, broker, broker.people["duty@riverside.example.org"])
    alert_id = [a for a in broker.admin_get("alerts").json()["alerts"] if a["recipient"].startswith("LA713")][0]["alert_id"]
    page.goto(broker.url + f"/console/alerts/{alert_id}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    target = broker.url + f"/console/alerts/{alert_id}/acknowledge"
    refusals = [
        page.request.post(target, form={"note": "no token"}, headers={"Origin": broker.url}),
        page.request.post(target, form={"note": "forged", "csrf": "0" * len(csrf)}, headers={"Origin": broker.url}),
        page.request.post(target, form={"note": "other site", "csrf": csrf}, headers={"Origin": "https://attacker.example"}),
        page.request.post(target, form={"note": "no origin", "csrf": csrf}),
    ]
    for response in refusals:
        assert response.status == 403, response.text()
        assert "This form could not be accepted" in response.text()
    # None of them acknowledged anything in the operator's name.
    notes = [e["detail"] for e in broker.admin_get("audit?limit=1000").json()["entries"] if e["action"] == "alert.acknowledged"]
    assert not any(word in " ".join(notes) for word in ["no token", "forged", "other site", "no origin"])


def test_a_viewer_reads_the_directory_but_cannot_open_the_editor(page, broker):
    viewer = broker.create_user("governance@riverside.example.org", "Gita Governance", "viewer", "--organisation", "713")
    sign_in(page, broker, viewer)
    nav = page.get_by_role("navigation", name="Main").inner_text()
    assert "Messages" in nav and "Boundaries" in nav and "Alerts" not in nav
    page.goto(broker.url + "/console/directory")
    assert page.get_by_role("link", name="Edit the directory").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.goto(broker.url + "/console/directory/edit")
    assert response.status == 403 and page.get_by_role("heading", name="You cannot use this page").is_visible()
    post = page.request.post(broker.url + "/console/directory/edit", form={"csrf": csrf, "yaml": "organisations: []", "action": "apply"},
                             headers={"Origin": broker.url})
    assert post.status == 403
    assert broker.admin_get("directory/history").json()["versions"][0]["actor"].startswith("console:admin")
    response = page.goto(broker.url + "/console/alerts")
    assert response.status == 403
    page.goto(broker.url + "/console/boundaries")
    check_page(page, "boundaries")


def test_markup_in_stored_fields_is_shown_as_text(page, broker):
    sign_in(page, broker, broker.admin)
    page.goto(broker.url + "/console/directory")
    assert page.get_by_text("<script>document.title='pwned'</script>").is_visible()
    assert page.get_by_text("<img src=x onerror=\"document.title='pwned'\">").is_visible()
    assert "pwned" not in page.title() and page.dialogs == []
    csp = page.request.get(broker.url + "/console/directory").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_a_totp_code_is_accepted_once(page, broker):
    viewer = broker.people["governance@riverside.example.org"]
    code = broker.code(viewer)
    for attempt in range(2):
        page.goto(broker.url + "/console/sign-in")
        page.get_by_label("Email address").fill(viewer["email"])
        page.get_by_label("Password", exact=True).fill(viewer["password"])
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Security code").fill(code)
        page.get_by_role("button", name="Sign in").click()
        if attempt == 0:
            assert "/sign-in" not in page.url
            page.get_by_role("button", name="Sign out").click()
            assert page.get_by_text("You have signed out.").is_visible()
        else:
            assert page.get_by_text("used already").is_visible()
            check_page(page, "sign-in-code-refused")
    failures = [e for e in broker.admin_get("audit?limit=1000").json()["entries"] if e["action"] == "console.sign_in_failed"]
    assert any('"factor":"code"' in e["detail"] for e in failures)


def test_the_idle_warning_comes_before_the_session_ends_and_keeps_what_was_typed(page, broker):
    page.clock.install()
    sign_in(page, broker, broker.people["duty@riverside.example.org"])
    page.goto(broker.url + "/console/messages")
    page.get_by_label("Workflow").fill("typed before the warning")
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    page.clock.fast_forward("24:00")
    assert warning.is_hidden(), "no warning before the last five minutes"
    page.clock.fast_forward("01:30")
    assert warning.is_visible() and page.get_by_role("button", name="Stay signed in").is_visible()
    page.get_by_role("button", name="Stay signed in").click()
    page.wait_for_function("() => document.getElementById('idle-warning').hidden")
    assert page.get_by_label("Workflow").input_value() == "typed before the warning"
    assert "/console/messages" in page.url


def test_a_session_ends_at_sign_out_even_if_its_cookie_is_kept(page, broker):
    sign_in(page, broker, broker.people["duty@riverside.example.org"])
    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    page.context.add_cookies(cookies)
    page.goto(broker.url + "/console/alerts")
    assert page.url.startswith(broker.url + "/console/sign-in")


def test_a_practitioner_signs_in_with_the_keyboard_only_and_sees_their_mailbox(page, broker):
    person = broker.create_user("sam.patel@riverside.example.org", "Sam Patel", "practitioner", "--mailbox", "LA713SAFE")
    page.goto(broker.url + "/console/sign-in")
    check_page(page, "sign-in")

    def tab_to(element_id):
        for _ in range(10):
            if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("email")
    page.keyboard.type(person["email"])
    tab_to("password")
    page.keyboard.type(person["password"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/code")
    check_page(page, "sign-in-code")
    tab_to("code")
    page.keyboard.type(broker.code(person))
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/new-password")
    check_page(page, "new-password")
    chosen = "a long passphrase for Sam"
    tab_to("password")
    page.keyboard.type(chosen)
    tab_to("confirm")
    page.keyboard.type(chosen)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/mailbox")
    person["password"] = chosen
    assert page.get_by_role("heading", name="Mailbox").is_visible()
    assert page.locator("tr.pending").count() >= 1
    check_page(page, "mailbox")


def test_sign_in_with_the_organisations_account_and_a_replayed_callback_is_refused(page, broker):
    callbacks = []
    page.on("request", lambda r: callbacks.append(r.url) if "/console/sign-in/oidc/callback" in r.url else None)
    page.goto(broker.url + "/console/sign-in")
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    page.get_by_role("button", name=OIDC_PERSON["sub"]).click()
    page.wait_for_url("**/console/alerts")
    assert page.get_by_text("Alex Oidc (operator)").is_visible()
    assert any(e["actor"] == "console:" + OIDC_PERSON["email"] and e["action"] == "console.signed_in" and "oidc" in e["detail"]
               for e in broker.admin_get("audit?limit=1000").json()["entries"])
    assert len(callbacks) == 1
    # The same callback again, in this browser and in another: the state was spent, nobody is signed in.
    page.context.clear_cookies()
    response = page.goto(callbacks[0])
    assert response.status == 401 and page.get_by_text("expired or was used already").is_visible()
    page.goto(broker.url + "/console/alerts")
    assert "/console/sign-in" in page.url


def test_an_admin_compares_versions_and_restores_the_first(page, broker):
    sign_in(page, broker, broker.admin)
    page.goto(broker.url + "/console/directory/history")
    page.get_by_role("link", name="Version 1", exact=True).click()
    check_page(page, "directory-version")
    page.get_by_role("button", name="Compare").click()
    assert page.get_by_text("added service newtown-adult-safeguarding").is_visible() or page.get_by_text(
        "deleted service newtown-adult-safeguarding").is_visible()
    check_page(page, "directory-compare")
    page.goto(broker.url + "/console/directory/versions/1")
    page.get_by_role("link", name="Restore this version").click()
    assert page.get_by_text("This is version 1.").is_visible()
    page.get_by_role("button", name="Apply").click()
    assert page.get_by_text("Some addresses that route today would stop routing").is_visible()
    row = page.locator("tr", has_text="POSTCODE:NT1").first
    assert "unroutable" in row.inner_text()
    page.get_by_label("I have reviewed the routing impact").check()
    page.get_by_role("button", name="Apply").click()
    # It removes a safeguarding service: saved as a proposal that shows the same impact to its approver.
    assert "/console/directory/proposals/" in page.url
    assert "unroutable" in page.locator("tr", has_text="POSTCODE:NT1").first.inner_text()
    assert "applied=" in approve_as_second_admin(page, broker, page.url)
    restored = broker.admin_get("directory/history").json()["versions"][0]
    assert any("newtown" in change for change in restored["changes"])


def test_a_practitioner_accepts_a_safeguarding_referral_and_the_sender_gets_the_ack(page, broker):
    sam = broker.people["sam.patel@riverside.example.org"]
    accepted = send(broker, "POSTCODE:RV1", "for Sam to accept")
    declined = send(broker, "POSTCODE:RV2", "for Sam to decline")
    sign_in(page, broker, sam)
    page.get_by_role("link", name=accepted).click()
    assert page.get_by_text("If someone is at immediate risk, phone as well.").is_visible()
    check_page(page, "mailbox-message")
    def fill_basis():
        page.get_by_label("UK GDPR Article 6").select_option("A6-1e")
        page.get_by_label("Article 9 condition").select_option("A9-2h")
        page.get_by_label("DPA 2018 Schedule 1 condition").select_option("S1-P1-2")

    # Deciding before reading is refused in plain words; reading it in the console counts.
    fill_basis()
    page.get_by_role("button", name="Accept").click()
    assert page.get_by_text("has not been downloaded yet").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the message").click()
    assert open(download.value.path(), "rb").read() == b"referral about a person"
    page.goto(broker.url + f"/console/mailbox/{accepted}")
    fill_basis()
    page.get_by_label("Note (optional)").fill("Visiting today")
    page.get_by_role("button", name="Accept").click()
    facts = page.locator("dl.facts").inner_text()
    assert "accepted by Sam Patel" in facts
    page.get_by_label("Outcome").select_option("s42-enquiry")
    page.get_by_role("button", name="Record outcome").click()
    assert "outcome s42-enquiry" in page.locator("dl.facts").inner_text()
    check_page(page, "mailbox-message-accepted")

    page.goto(broker.url + f"/console/mailbox/{declined}")
    with page.expect_download():
        page.get_by_role("link", name="Download the message").click()
    page.reload()
    page.get_by_label("Reason").select_option("wrong-area")
    page.get_by_label("Why (the sender reads this)").fill("Lives in Hillside: please send to Hillside County Council")
    page.get_by_role("button", name="Decline").click()
    assert "declined by Sam Patel" in page.locator("dl.facts").inner_text() and "wrong-area" in page.locator("dl.facts").inner_text()

    # The hospital's mailbox received the business acknowledgements, naming Sam.
    with broker.mesh("RX1DISCH") as hospital:
        bodies = []
        for message_id in hospital.list_messages():
            with hospital.retrieve_message(message_id) as message:
                bodies.append((message.workflow_id, message.read().decode()))
    acks = [body for workflow, body in bodies if workflow == "SAFEGUARDING_ADULT_REFERRAL_ACK"]
    assert any(accepted in body and "Sam Patel" in body and "accepted" in body for body in acks)
    assert any(declined in body and "wrong-area" in body for body in acks)
    assert any(accepted in body and "s42-enquiry" in body for body in acks)
    # Another mailbox's message is not Sam's to open.
    hillside = send(broker, "POSTCODE:HL1", "not Sam's")
    assert page.goto(broker.url + f"/console/mailbox/{hillside}").status == 404

    # A Transfer of Care bundle is summarised on its page, as text a person reads before downloading it.
    discharge = send(broker, "POSTCODE:RV1", "a discharge summary", body=DISCHARGE_BUNDLE.read_bytes())
    page.goto(broker.url + f"/console/mailbox/{discharge}")
    summary = page.get_by_role("region", name="What the document says")
    assert "Medication statement: Sertraline 50mg tablets" in summary.inner_text()
    assert "Lives alone <no family nearby>." in summary.inner_text()
    check_page(page, "mailbox-message-summary")


def received(broker, mailbox):
    """Every message in a mailbox's inbox as (id, workflow, body text)."""
    with broker.mesh(mailbox) as client:
        out = []
        for message_id in client.list_messages():
            with client.retrieve_message(message_id) as message:
                out.append((message_id, message.workflow_id, message.read().decode(errors="replace")))
        return out


def test_a_referral_sent_to_the_wrong_council_is_redirected_and_the_sender_sees_where_it_went(page, broker):
    sam = broker.people["sam.patel@riverside.example.org"]
    wrong = send(broker, "POSTCODE:RV1", "reached Riverside, belongs to Hillside")
    sign_in(page, broker, sam)
    page.goto(broker.url + f"/console/mailbox/{wrong}")
    # The crossing record is there to read, as text.
    page.get_by_text("The crossing record").click()
    assert "payload sha256" in page.locator("details.record").inner_text()
    page.get_by_label("Send it to").fill("POSTCODE:HL1")
    page.get_by_label("Why (the sender and the new team read this)").fill("Lives in Hillside")
    page.get_by_role("button", name="Redirect").click()
    page.wait_for_url("**/console/mailbox?redirected=*")
    assert page.get_by_text(f"Message {wrong} was sent on to LA714SAFE").is_visible()
    assert page.get_by_role("link", name=wrong).count() == 0
    check_page(page, "mailbox-after-redirect")
    # Hillside's inbox has it; the hospital's poll has the redirect naming where it went.
    assert wrong in [m for m, _, _ in received(broker, "LA714SAFE")]
    acks = [body for _, workflow, body in received(broker, "RX1DISCH") if workflow == "SAFEGUARDING_ADULT_REFERRAL_ACK"]
    assert any(wrong in body and '"redirected"' in body and "LA714SAFE" in body and "Lives in Hillside" in body for body in acks)

    # The hospital's own practitioner sees it on the Sent page, with where it went.
    hana = broker.create_user("hana.ito@riverside-hospital.example.org", "Hana Ito", "practitioner", "--mailbox", "RX1DISCH")
    sign_in(page, broker, hana)
    page.goto(broker.url + "/console/sent")
    row = page.locator("tr", has=page.get_by_role("link", name=wrong))
    assert "Hillside County Council" in row.inner_text()
    check_page(page, "sent")
    row.get_by_role("link", name=wrong).click()
    assert "Sent on from LA713SAFE to LA714SAFE" in page.locator("main").inner_text()
    check_page(page, "sent-message")

    # The hospital withdraws it: Hillside is told, and it can no longer be accepted there.
    page.get_by_label("Why (the receiving team reads this)").fill("Patient readmitted")
    page.get_by_role("button", name="Withdraw").click()
    assert "withdrawn" in page.locator("main").inner_text() and "Patient readmitted" in page.locator("main").inner_text()
    notices = [body for _, workflow, body in received(broker, "LA714SAFE") if workflow == "HANDOVER_NOTICE"]
    assert any(wrong in body and "Patient readmitted" in body for body in notices)


def test_the_sender_amends_a_referral_and_the_team_gets_the_linked_replacement(page, broker):
    hana = broker.people["hana.ito@riverside-hospital.example.org"]
    first = send(broker, "POSTCODE:RV2", "first version", body=b"discharge on Monday")
    sign_in(page, broker, hana)
    page.goto(broker.url + f"/console/sent/{first}")
    page.get_by_label("Corrected message").fill("discharge on Tuesday")
    page.get_by_label("What changed (the receiving team reads this)").fill("The date moved")
    page.get_by_role("button", name="Send the amendment").click()
    page.wait_for_url("**/console/sent/*")
    replacement = page.url.rsplit("/", 1)[1]
    assert replacement != first
    page.goto(broker.url + f"/console/sent/{first}")
    assert page.get_by_role("link", name=f"message {replacement}").is_visible()
    assert page.get_by_role("button", name="Withdraw").count() == 0
    bodies = {m: body for m, _, body in received(broker, "LA713SAFE")}
    assert bodies.get(replacement) == "discharge on Tuesday"


def test_a_care_provider_with_no_software_sends_a_reply_from_the_browser(page, broker):
    priya = broker.create_user("priya.shah@meadowview.example.org", "Priya Shah", "practitioner", "--mailbox", "CH1CARE")
    sign_in(page, broker, priya)
    page.get_by_role("link", name="Send a message").click()
    page.get_by_label("Workflow").select_option("CARE_PROVIDER_REPLY")
    # The preview follows the address as it is typed: somewhere the directory will not send it...
    page.get_by_label("To (a mailbox").fill("POSTCODE:HL1")
    page.wait_for_function("() => document.getElementById('route-preview').textContent.includes('cannot be sent')")
    # ...and where it will go.
    page.get_by_label("To (a mailbox").fill("RX1")
    page.wait_for_function("() => document.getElementById('route-preview').textContent.includes('RX1DISCH')")
    assert "Riverside University Hospitals NHS Trust" in page.locator("#route-preview").inner_text()
    page.get_by_label("For action or for information").select_option("for-information")
    page.get_by_label("Message").fill("Mr Example settled in well; first review on Friday.")
    check_page(page, "send")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url("**/console/sent/*")
    sent_id = page.url.rsplit("/", 1)[1]
    assert "Riverside University Hospitals NHS Trust" in page.locator("dl.facts").inner_text()
    # The hospital's ordinary MESH poll has it, byte for byte, with Priya as the record's author.
    with broker.mesh("RX1DISCH") as hospital:
        assert sent_id in hospital.list_messages()
        with hospital.retrieve_message(sent_id) as message:
            assert message.workflow_id == "CARE_PROVIDER_REPLY"
            assert message.read().decode() == "Mr Example settled in well; first review on Friday."
    # The hospital's practitioner reads the crossing record: Priya is its author, for information.
    sign_in(page, broker, broker.people["hana.ito@riverside-hospital.example.org"])
    page.goto(broker.url + f"/console/mailbox/{sent_id}")
    page.get_by_text("The crossing record").click()
    record = page.locator("details.record").inner_text()
    assert "Priya Shah" in record and "for-information" in record
