import Foundation
import Testing
import TestSupport

/// Call records arrive on `crm.telephony.calls.v1` (TOPICS.md) and become events (API.md,
/// "Telephony"). The service's consumer is asynchronous: each test polls the history until the
/// event shows up (20 s deadline).
@Suite("Telephony: call records become events")
struct TelephonyTests {
    /// The SLA the harness configures (`CRM_CALLBACK_SLA`, seconds).
    static let callbackSLA: TimeInterval = 3600

    @Test("Answered inbound call from a known number written differently: a completed incoming phone call in the counterparty's history")
    func answeredInbound() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let olga = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            _ = try await h.seedEmployee(name: "Sergey", phoneExtension: "102")
            let call = CallRecord.answered(from: "+7 (495) 123-45-67", extension: "101")
            try await publishCall(h, call)

            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            let event = try #require(eventOfCall(page, call.callId), "no event for \(call.callId): \(page.text)")
            #expect(page.items.count == 1)
            #expect(event.channel == "phone-call")
            #expect(event.direction == "incoming")
            #expect(event.state == "completed")
            #expect(event.source == "telephony")
            #expect(event.counterpartyId == acme)
            #expect(event.contactId == nil)
            #expect(event.responsibleId == olga)
            #expect(event.subject?.isEmpty == false, "a telephony event still has a subject")
            #expect(event.completedAt != nil)
            #expect(event.deleted == false)
            let number = try #require(event.number)
            #expect(number.wholeMatch(of: /EV-[0-9]{6,}/) != nil, "\(number)")
            // The call details: id, both numbers, timing, recording.
            #expect(event.hasCall)
            #expect(event.callId == call.callId)
            #expect(event.callMentionsNumber("+74951234567"), "the caller's number in \(event.callStrings)")
            #expect(event.callMentionsNumber(call.to), "the called number in \(event.callStrings)")
            #expect(event.callHasTiming(durations: call.durations, orInstant: call.endedAtText), "timing in \(event.callStrings)")
            #expect(event.callStrings.contains(call.recordingUrl ?? "?"), "recordingUrl in \(event.callStrings)")

            let read = try await getEvent(h, event.id)
            #expect(read.callId == call.callId)
            #expect(read.source == "telephony")
            let missing = eventMembers.filter { !read.members.contains($0) }
            #expect(missing.isEmpty, "members missing: \(missing)")
            #expect(try await listIds(h, "responsibleId=\(olga)") == [event.id])
            #expect(try await listIds(h, "unmatched=true").isEmpty, "a matched call is not unmatched")
        }
    }

    @Test("Numbers in national formats match counterparties and contacts; a contact's number sets the contact too")
    func numberFormatsAndContacts() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let pavel = try await h.seedContact(counterpartyId: acme, name: "Pavel", phones: ["+79160001122"])
            let globex = try await h.seedCounterparty(name: "Globex", phones: ["+78125550102"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")

            let fromContact = CallRecord.answered(from: "8 (916) 000-11-22", endedSecondsAgo: 300)
            let trunkPrefix = CallRecord.answered(from: "84951234567", endedSecondsAgo: 200)
            let tenDigits = CallRecord.answered(from: "812 555-01-02", endedSecondsAgo: 100)
            for call in [fromContact, trunkPrefix, tenDigits] {
                try await publishCall(h, call)
            }

            let acmePage = try await waitForEvents(h, "counterpartyId=\(acme)", count: 2)
            let viaContact = try #require(eventOfCall(acmePage, fromContact.callId), "\(acmePage.text)")
            #expect(viaContact.counterpartyId == acme)
            #expect(viaContact.contactId == pavel)
            let viaCounterparty = try #require(eventOfCall(acmePage, trunkPrefix.callId), "\(acmePage.text)")
            #expect(viaCounterparty.contactId == nil)

            let contactHistory = try await listIds(h, "contactId=\(pavel)")
            #expect(contactHistory == [viaContact.id])

            let globexPage = try await waitForEvents(h, "counterpartyId=\(globex)", count: 1)
            let viaTenDigits = try #require(eventOfCall(globexPage, tenDigits.callId), "\(globexPage.text)")
            #expect(viaTenDigits.counterpartyId == globex)
            #expect(try await listIds(h, "unmatched=true").isEmpty)
        }
    }

    @Test("Answered outbound call: a completed outgoing phone call, matched by the number called")
    func answeredOutbound() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let sergey = try await h.seedEmployee(name: "Sergey", phoneExtension: "102")
            let call = CallRecord.answered(from: "+74951110000", to: "8 495 123-45-67", direction: "outbound", extension: "102")
            try await publishCall(h, call)

            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            let event = try #require(eventOfCall(page, call.callId), "\(page.text)")
            #expect(event.direction == "outgoing")
            #expect(event.channel == "phone-call")
            #expect(event.state == "completed")
            #expect(event.source == "telephony")
            #expect(event.responsibleId == sergey)
            #expect(event.callMentionsNumber("+74951234567"))
            #expect(try await listIds(h, "direction=outgoing&counterpartyId=\(acme)") == [event.id])
        }
    }

    @Test("The CloudEvent form (type crm.telephony.call) is read like the bare form")
    func cloudEventForm() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let olga = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let call = CallRecord.answered(from: "+7 495 123 45 67")
            try await publishCall(h, call, cloudEvent: true)

            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            let event = try #require(eventOfCall(page, call.callId), "\(page.text)")
            #expect(event.state == "completed")
            #expect(event.direction == "incoming")
            #expect(event.responsibleId == olga)
            #expect(event.source == "telephony")
            #expect(event.callStrings.contains(call.recordingUrl ?? "?"))
        }
    }

    @Test("Missed inbound call: a cancelled \"missed\" incoming event plus a planned call-back based on it, due within the SLA")
    func missedCallGetsCallBack() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let olga = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let call = CallRecord.unanswered("missed", from: "+7 (495) 123-45-67", extension: "101")
            try await publishCall(h, call)

            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 2)
            #expect(page.items.count == 2, "\(page.text)")
            let missed = try #require(page.items.first { $0.state == "cancelled" }, "no cancelled event: \(page.text)")
            #expect(missed.callId == call.callId)
            #expect(missed.channel == "phone-call")
            #expect(missed.direction == "incoming")
            #expect(missed.cancelReason == "missed")
            #expect(missed.cancelledAt != nil)
            #expect(missed.source == "telephony")
            #expect(missed.counterpartyId == acme)
            #expect(missed.responsibleId == olga)

            let callBack = try #require(page.items.first { $0.state == "planned" }, "no planned call-back: \(page.text)")
            #expect(callBack.channel == "phone-call")
            #expect(callBack.direction == "outgoing")
            #expect(callBack.basisKind == "event")
            #expect(callBack.basisId == missed.id)
            #expect(callBack.responsibleId == olga)
            #expect(callBack.counterpartyId == acme)
            #expect(callBack.subject?.isEmpty == false)
            expectDue(callBack, after: call)

            // It is the employee's task: in their planned list (what the calendar shows).
            #expect(try await listIds(h, "responsibleId=\(olga)&state=planned") == [callBack.id])
        }
    }

    @Test("Busy inbound call with an unknown extension, and a missed one without extension: call-backs go to the fallback employee")
    func callBackFallback() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let globex = try await h.seedCounterparty(name: "Globex", phones: ["+78125550102"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let busy = CallRecord.unanswered("busy", from: "8 495 123 45 67", extension: "999")
            let noExtension = CallRecord.unanswered("missed", from: "+7 812 555 01 02", extension: nil)
            try await publishCall(h, busy)
            try await publishCall(h, noExtension)

            let acmePage = try await waitForEvents(h, "counterpartyId=\(acme)", count: 2)
            let busyEvent = try #require(acmePage.items.first { $0.state == "cancelled" }, "\(acmePage.text)")
            #expect(busyEvent.callId == busy.callId)
            #expect(busyEvent.direction == "incoming")
            let busyCallBack = try #require(callBack(in: acmePage, basedOn: busyEvent.id), "\(acmePage.text)")
            #expect(busyCallBack.state == "planned")
            #expect(busyCallBack.direction == "outgoing")
            #expect(busyCallBack.responsibleId == Harness.fallbackEmployee)
            expectDue(busyCallBack, after: busy)

            let globexPage = try await waitForEvents(h, "counterpartyId=\(globex)", count: 2)
            let missedEvent = try #require(globexPage.items.first { $0.state == "cancelled" }, "\(globexPage.text)")
            #expect(missedEvent.cancelReason == "missed")
            let missedCallBack = try #require(callBack(in: globexPage, basedOn: missedEvent.id), "\(globexPage.text)")
            #expect(missedCallBack.responsibleId == Harness.fallbackEmployee)
            expectDue(missedCallBack, after: noExtension)

            let fallbackTasks = try await listIds(h, "responsibleId=\(Harness.fallbackEmployee)&state=planned")
            #expect(Set(fallbackTasks) == [busyCallBack.id, missedCallBack.id])
        }
    }

    @Test("A number that matches nothing: an event with no counterparty, found with unmatched=true")
    func unknownNumberIsUnmatched() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let stranger = CallRecord.answered(from: "+7 (999) 000-00-01", endedSecondsAgo: 60)
            let known = CallRecord.answered(from: "+7 (495) 123-45-67", endedSecondsAgo: 30)
            try await publishCall(h, stranger)
            try await publishCall(h, known)

            let unmatched = try await waitForEvents(h, "unmatched=true", count: 1)
            let event = try #require(eventOfCall(unmatched, stranger.callId), "\(unmatched.text)")
            #expect(event.counterpartyId == nil)
            #expect(event.contactId == nil)
            #expect(event.source == "telephony")
            #expect(event.state == "completed")
            #expect(event.direction == "incoming")
            #expect(event.callMentionsNumber("+79990000001"), "the unknown number is kept: \(event.callStrings)")

            let matched = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            let knownEvent = try #require(eventOfCall(matched, known.callId), "\(matched.text)")
            let unmatchedAgain = try await listIds(h, "unmatched=true")
            #expect(unmatchedAgain == [event.id], "only the unknown number: \(unmatchedAgain)")
            #expect(!matched.ids.contains(event.id))
            #expect(Set(try await listIds(h, "")) == [event.id, knownEvent.id])
        }
    }

    @Test("The same callId twice (bare, then as a CloudEvent) changes nothing: one event, one call-back")
    func duplicateCallId() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let answered = CallRecord.answered(from: "+7 (495) 123-45-67", endedSecondsAgo: 120)
            try await publishCall(h, answered)
            let first = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            let original = try #require(eventOfCall(first, answered.callId), "\(first.text)")

            let missed = CallRecord.unanswered("missed", from: "84951234567", endedSecondsAgo: 60)
            try await publishCall(h, answered, cloudEvent: true)
            try await publishCall(h, answered)
            try await publishCall(h, missed)
            try await publishCall(h, missed, cloudEvent: true)
            let marker = CallRecord.answered(from: "+74951234567", endedSecondsAgo: 10)
            try await publishCall(h, marker)

            // answered + missed + its call-back + marker, and nothing more once things settle.
            let settled = try await settledEvents(h, "counterpartyId=\(acme)&limit=500", count: 4)
            #expect(settled.items.count == 4, "\(settled.items.map { "\($0.state ?? "-") \($0.callId ?? "-")" })")
            #expect(settled.items.filter { $0.callId == answered.callId }.count == 1)
            #expect(settled.items.filter { $0.callId == marker.callId }.count == 1)
            let missedEvents = settled.items.filter { $0.state == "cancelled" }
            #expect(missedEvents.count == 1)
            let missedId = try #require(missedEvents.first?.id)
            #expect(settled.items.filter { $0.basisId == missedId }.count == 1, "one call-back")
            let after = try await getEvent(h, original.id)
            #expect(after.version == original.version, "the repeat did not touch the event")
            #expect(sameInstant(after.updatedAt, original.updatedAt))
        }
    }

    @Test("Invalid messages go to crm.dlq.v1 with their origin and reason; the next good call is still processed")
    func malformedMessagesToDLQ() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let template = CallRecord.answered(from: "+74951234567")
            let notJSON = "this is not json {"
            let noCallId = jsonText([
                "direction": q("inbound"), "from": q("+74951234567"), "to": q("+74951110000"), "extension": q("101"),
                "startedAt": q(template.startedAtText), "endedAt": q(template.endedAtText), "status": q("answered"),
            ])
            let badStatusCall = CallRecord(
                callId: "pbx-bad-status-\(newId())", direction: "inbound", from: template.from, to: template.to,
                extension: "101", startedAt: template.startedAt, answeredAt: template.answeredAt,
                endedAt: template.endedAt, status: "exploded", recordingUrl: nil)
            let badStatus = badStatusCall.bare
            let wrongType = jsonText([
                "specversion": q("1.0"), "id": q(newId()), "source": q("pbx"), "type": q("crm.telephony.voicemail"),
                "datacontenttype": q("application/json"), "data": template.bare,
            ])
            let invalid: [(key: String, value: String, mentions: String?)] = [
                ("garbage-\(newId())", notJSON, nil),
                ("no-call-id-\(newId())", noCallId, "callId"),
                (badStatusCall.callId, badStatus, "status"),
                ("wrong-type-\(newId())", wrongType, nil),
            ]
            for message in invalid {
                try await h.publish(topic: telephonyTopic, key: message.key, value: message.value)
            }
            let good = CallRecord.answered(from: "+7 (495) 123-45-67")
            try await publishCall(h, good)

            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 1)
            #expect(eventOfCall(page, good.callId) != nil, "the good call after the bad ones: \(page.text)")

            let dead = try await readTopic(h, "crm.dlq.v1", count: invalid.count)
            #expect(dead.count == invalid.count, "\(dead.map { $0.key ?? "-" })")
            for message in invalid {
                let letter = try #require(dead.first { $0.key == message.key }, "\(message.key) not dead-lettered")
                #expect(letter.value == message.value, "the original value")
                #expect(letter.header("crm_dlq_topic") == telephonyTopic)
                #expect(Int(letter.header("crm_dlq_partition") ?? "") != nil, "partition: \(letter.header("crm_dlq_partition") ?? "none")")
                #expect(Int(letter.header("crm_dlq_offset") ?? "") != nil, "offset: \(letter.header("crm_dlq_offset") ?? "none")")
                #expect(letter.header("crm_dlq_consumer")?.isEmpty == false)
                let error = letter.header("crm_dlq_error") ?? ""
                #expect(!error.isEmpty, "a reason for \(message.key)")
                if let mentions = message.mentions {
                    #expect(error.localizedCaseInsensitiveContains(mentions), "reason '\(error)' names \(mentions)")
                }
            }
            // Nothing was made of the invalid messages, and nothing else was dead-lettered.
            #expect(try await listIds(h, "includeDeleted=true&limit=500") == page.ids)
            let later = try await readTopic(h, "crm.dlq.v1", count: invalid.count + 1, timeout: .seconds(5))
            #expect(later.count == invalid.count)
        }
    }
}

/// A call-back is due after the call started and at most the SLA (plus processing slack) after it ended.
func expectDue(_ callBack: EventView, after call: CallRecord, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let due = parseRFC3339(callBack.endsAt) else {
        Issue.record("the call-back has no endsAt: \(callBack)", sourceLocation: sourceLocation)
        return
    }
    #expect(due > call.startedAt, "due \(callBack.endsAt ?? "-") after the call", sourceLocation: sourceLocation)
    let latest = call.endedAt.addingTimeInterval(TelephonyTests.callbackSLA + 120)
    #expect(
        due <= latest, "due \(callBack.endsAt ?? "-") within the SLA of the call's end \(call.endedAtText)",
        sourceLocation: sourceLocation)
    if let start = parseRFC3339(callBack.startsAt) {
        #expect(start <= due, sourceLocation: sourceLocation)
    }
}
