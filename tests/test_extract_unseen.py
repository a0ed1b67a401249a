"""The fast engine on page shapes from benchmarks no rule was tuned on (Dragnet, Readability).

Each test is a general way pages are built, written small: a short post beside much
longer chrome, markup that is not text, notices addressed to the reader's browser.
"""

from __future__ import annotations

from worker.extract.fast import extract_fast

POST = (
    "We moved the bakery to the old fire station last spring, and the ovens finally arrived "
    "this week after a long wait at the port. The first loaves come out on Saturday morning."
)
COMMENT = (
    "Congratulations on the new place, I remember queuing outside the old shop every winter "
    "and I am so glad the sourdough survived the move. Will you still do the rye on Fridays? "
)
TESTIMONIAL = (
    "Working with the team changed how we plan our week, and the advice on stock control paid "
    "for itself within a month; I recommend the workshop to every owner I meet at the market. "
)


def page(body: str) -> str:
    return f"<!doctype html><html><head><title>Bakery</title></head><body>{body}</body></html>"


def test_long_comments_under_a_short_marked_post_are_left_out() -> None:
    comments = "".join(
        f"<div class='coms'><span>Reader {i} said,</span><div class='text'><p>{COMMENT}</p>"
        f"<p>{COMMENT}</p></div></div>"
        for i in range(12)
    )
    html = page(
        "<div id='post-entry'><h1>The bakery has moved</h1>"
        f"<div class='post-content'><p>{POST}</p></div>"
        f"<div id='comment_tpl'><h2>12 users responded</h2>{comments}</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text


def test_large_sidebar_beside_a_short_marked_post_is_left_out() -> None:
    quotes = "".join(f"<li><p>{TESTIMONIAL}</p></li>" for _ in range(10))
    html = page(
        f"<div class='sidebar-testimonials'><ul>{quotes}</ul></div>"
        f"<div class='post'><h1>The bakery has moved</h1><div class='entry-content'><p>{POST}</p>"
        "</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "stock control" not in text


def test_escaped_markup_in_noscript_is_not_text() -> None:
    snippet = (
        "&lt;iframe src='https://tracker.example/ns.html?id=GTM-1' height='0'&gt;&lt;/iframe&gt;"
    )
    html = page(
        f"<article><h1>The bakery has moved</h1><p>{POST}</p>"
        f"<noscript>{snippet * 30}</noscript></article>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "iframe" not in text and "tracker" not in text


def test_noscript_holding_real_elements_is_still_read() -> None:
    html = page(
        f"<noscript><article><h1>The bakery has moved</h1><p>{POST}</p></article></noscript>"
    )
    assert POST in extract_fast(html).text


def test_section_named_by_a_heading_slug_is_not_chrome() -> None:
    """Documentation generators give each section its heading's slug as id; a slug that
    opens with a chrome word ("sharing-with-…") is still the section's prose."""
    slugs = ("setting-up", "sharing-with-a-single-developer", "conclusion")
    sections = "".join(
        f"<div class='section' id='{slug}'><h2>{slug.replace('-', ' ')}</h2>"
        f"<p>Part {i}. {POST}</p><p>Part {i}. {TESTIMONIAL}</p></div>"
        for i, slug in enumerate(slugs)
    )
    text = extract_fast(page(f"<div class='body'>{sections}</div>")).text
    assert "sharing with a single developer" in text
    assert all(f"Part {i}. {POST}" in text for i in range(3))


def test_notice_addressed_to_the_browser_is_dropped() -> None:
    notice = (
        "This page is best viewed in an up-to-date web browser with style sheets (CSS) "
        "enabled. While you will be able to view the content of this page in your current "
        "browser, you will not be able to get the full visual experience. Please consider "
        "upgrading your browser software or enabling style sheets (CSS) if you are able to do "
        "so. Some parts of the page may look different or be missing in older browsers."
    )
    quoted = '"Best viewed in Netscape Navigator" was a badge on many early home pages.'
    html = page(f"<article><p>{notice}</p><p>{POST}</p><p>{quoted} {POST}</p></article>")
    text = extract_fast(html).text
    assert POST in text
    assert quoted in text  # a quotation in prose is the text
    assert "full visual experience" not in text


def test_link_list_beside_a_short_marked_post_is_not_the_core() -> None:
    """A blog's category list can hold more words than a short post; the page marks the
    post body (entry-content), and a list of links is never chosen over it."""
    topics = "".join(
        f"<li><a href='/category/{i}'>Seasonal breads and pastries from the valley, part {i}</a>"
        "</li>"
        for i in range(40)
    )
    html = page(
        f"<div class='module'><h2>Categories</h2><ul class='module-list'>{topics}</ul></div>"
        f"<div class='entry'><h1>The bakery has moved</h1><div class='entry-content'><p>{POST}"
        "</p></div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Seasonal breads" not in text


def test_unmarked_comments_after_their_heading_are_left_out() -> None:
    """Many sites give readers' comments no class name; the section still opens with
    its heading ("3 Comments"), and a post has one such section."""
    comments = "".join(f"<div><b>Reader {i}</b><p>{COMMENT}</p></div>" for i in range(3))
    html = page(
        f"<div><div><h1>The bakery has moved</h1><p>{POST}</p><p>{POST}</p><p>{POST}</p></div>"
        f"<h3>3 Comments</h3><div>{comments}</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text


def test_a_comment_heading_repeated_per_item_cuts_nothing() -> None:
    """On a question-and-answer page every post ends with its own comment count."""
    question = f"<div><h1>Which oven?</h1><p>{POST}</p><p>{POST}</p><p>{POST}</p></div>"
    answers = "".join(
        f"<div><p>Answer {i}. {TESTIMONIAL}</p><p>{i + 2} Comments</p></div>" for i in range(2)
    )
    text = extract_fast(page(f"<div>{question}<p>1 Comment</p>{answers}</div>")).text
    assert POST in text
    assert all(f"Answer {i}." in text for i in range(2))


def test_comments_outweighing_a_short_post_are_cut_at_their_heading() -> None:
    """Readers' comments longer than the post become the core themselves; their section
    still opens with one heading after the post's paragraph, and ends the text there."""
    comments = "".join(f"<li><b>Reader {i}</b><p>{COMMENT}</p></li>" for i in range(12))
    html = page(
        f"<div><h1>The bakery has moved</h1><p>{POST} {POST}</p>"
        f'<h3>12 Responses to "The bakery has moved"</h3><ol>{comments}</ol></div>'
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text


def test_a_comment_link_is_not_the_comment_heading() -> None:
    """A "Comment" link in the post's byline points to the section; it is not its heading,
    and the section's own heading still counts as the page's one."""
    comments = "".join(f"<div><b>Reader {i}</b><p>{COMMENT}</p></div>" for i in range(3))
    html = page(
        "<div><div><h1>The bakery has moved</h1><p><a href='#c'>Comment</a></p>"
        f"<p>{POST}</p><p>{POST}</p><p>{POST}</p></div>"
        f"<h3>3 Comments</h3><div>{comments}</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text


def test_sidebar_inside_the_content_column_is_not_a_wrapper() -> None:
    """A sidebar that holds more prose than a short post, inside the same column as the
    post's paragraphs, sits beside the post: it is not given back as the post's wrapper."""
    quotes = "".join(f"<p>{TESTIMONIAL}</p>" for _ in range(6))
    html = page(
        f"<div><h1>The bakery has moved</h1><p>{POST}</p><p>See you on Saturday.</p>"
        f"<div class='sidebar'><h3>What customers say</h3>{quotes}</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "stock control" not in text


def test_a_singular_comment_label_inside_the_post_cuts_nothing() -> None:
    """A comment section is named in the plural or with a count; a bare "Response:" or
    "Comment" is a label inside the text (a transcript, a table's column)."""
    reply = "The ovens arrived from the port on Tuesday and the first loaves are on Saturday."
    html = page(
        f"<article><h1>The bakery has moved</h1><p>{POST} {POST}</p>"
        f"<p>Question: when do the ovens arrive?</p><p>Response:</p><p>{reply}</p></article>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert reply in text


def test_unnamed_sibling_wrappers_are_not_repeated_posts() -> None:
    """A marked post body ends the text even when its unnamed wrapper has unnamed
    siblings: only a shared class name makes elements one post of many."""
    legal = (
        "All material on this site is protected by copyright and may not be reproduced, "
        "distributed or stored without the prior written permission of the publisher, "
        "and the trade marks shown are the property of their respective owners worldwide."
    )
    html = page(
        f"<div><div><h1>The bakery has moved</h1><div class='entry-content'><p>{POST}</p>"
        f"<p>{POST}</p><p>{POST}</p></div></div><div><p>{legal}</p></div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "copyright" not in text


def test_a_counted_comment_heading_cuts_under_a_post_without_a_paragraph() -> None:
    """A heading that counts the comments ends the text even under a post too short to
    hold a paragraph."""
    comments = "".join(f"<li><b>Reader {i}</b><p>{COMMENT}</p></li>" for i in range(12))
    html = page(
        f"<div><h1>The bakery has moved</h1><p>{POST}</p>"
        f"<h3>12 Responses to the bakery</h3><ol>{comments}</ol></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text


def test_link_list_beside_a_short_unmarked_post_is_not_the_core() -> None:
    """Nothing in the markup names the post, and the archive list beside it holds more
    words; a list that is mostly link text gives way to the block of prose."""
    archive = "".join(
        f"<li><a href='/2012/{i}'>Seasonal breads and pastries from the valley, part {i}</a></li>"
        for i in range(40)
    )
    html = page(
        f"<div><ul>{archive}</ul></div>"
        f"<div><h1>The bakery has moved</h1><div><p>{POST} {POST}</p><p>{POST}</p></div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Seasonal breads" not in text


def test_a_listing_with_short_blurbs_keeps_its_list() -> None:
    """A listing's blurbs are shorter than a paragraph: its list stays the main text."""
    items = "".join(
        f"<li><a href='/recipes/{i}'>Seasonal breads and pastries from the valley, part {i}</a>"
        "</li>"
        for i in range(40)
    )
    html = page(f"<div><ul>{items}</ul></div><div><p>Fresh every morning since 1990.</p></div>")
    text = extract_fast(html).text
    assert "Seasonal breads and pastries from the valley, part 7" in text


def test_link_list_after_the_post_is_left_out() -> None:
    """After a post, a list whose text is mostly links (other posts, each with a few plain
    words) points elsewhere, even when no line of it is all link."""
    others = "".join(
        f"<li><a href='/2012/{i}'>Rye loaves for the winter market, week {i}</a>"
        " in Breads and Pastries</li>"
        for i in range(3)
    )
    html = page(
        f"<div><div><h1>The bakery has moved</h1><p>{POST}</p><p>{POST}</p><p>{POST}</p></div>"
        f"<div><p>{COMMENT}</p><p>{COMMENT}</p><ul>{others}</ul></div></div>"
        "<div><p>About the bakery</p></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Rye loaves" not in text


def test_links_inside_a_listing_core_stay() -> None:
    """In a core that is itself mostly links (a listing), a list after it is not dropped."""
    items = "".join(
        f"<li><a href='/recipes/{i}'>Rye loaves for the winter market, week {i}</a></li>"
        for i in range(12)
    )
    more = "".join(f"<li><a href='/p/{i}'>Older recipes, page {i}</a> of 9</li>" for i in range(3))
    html = page(f"<main><h1>Recipes</h1><ul>{items}</ul><div><ul>{more}</ul></div></main>")
    text = extract_fast(html).text
    assert "Rye loaves for the winter market, week 3" in text
    assert "Older recipes, page 1" in text


def test_hidden_paragraph_is_not_text_but_a_hidden_panel_is() -> None:
    """``hidden`` on a paragraph hides it; on a container it is a tab or an expandable
    panel that readers open, and its text stays."""
    html = page(
        f"<article><h1>The bakery has moved</h1><p>{POST}</p>"
        f"<p hidden>{COMMENT}</p><div hidden><p>{TESTIMONIAL}</p></div></article>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text
    assert "Working with the team" in text


RESTATED = (
    "The oven holds forty loaves at a time, and the first batch has to go in before five so "
    "that the shop can open at seven with bread still warm on the shelves for the early crowd, "
    "which is why the bakers start at three."
)
SECOND = (
    "Saturday mornings bring the longest queue, so the rye now bakes on Friday night and rests "
    "until the doors open; regulars asked for it, and the change costs the bakers no sleep."
)


def test_a_paragraph_restated_in_the_next_section_stays() -> None:
    html = page(
        "<article><h1>The bakery has moved</h1>"
        f"<div><p>{POST}</p><p>{RESTATED}</p></div><h2>Weekends</h2>"
        f"<div><p>{SECOND}</p><p>{RESTATED}</p></div></article>"
    )
    text = extract_fast(html).text
    assert text.count(RESTATED) == 2


def test_a_second_copy_of_the_story_beside_it_is_dropped() -> None:
    copy = f"<div><p>{POST}</p><p>{RESTATED}</p><p>{SECOND}</p></div>"
    html = page(f"<article><h1>The bakery has moved</h1>{copy}{copy}</article>")
    text = extract_fast(html).text
    assert text.count(RESTATED) == 1
    assert text.count(SECOND) == 1


def test_a_stream_of_other_stories_after_the_post_is_left_out() -> None:
    """Below an article, a "Recommended for you" stream: sibling items, each opened by a
    heading that links to another page, with a summary under it. They are other stories,
    even inside the page's <main>; a summary alone (no headline link) stays."""
    summary = (
        "The council approved the new market hall on Tuesday evening, and the stalls will open "
        "to traders in the spring once the roof and the cold rooms are finished by the builders."
    )
    stream = "".join(
        f"<li class='story'><h3><a href='/news/{i}'>Council approves the new market hall {i}"
        f"</a></h3><p>{summary}</p><div>Town Gazette</div></li>"
        for i in range(6)
    )
    html = page(
        "<div role='main'><div class='video'><ul><li>Play</li><li>Mute</li></ul></div>"
        f"<div class='story-page'><h1>The bakery has moved</h1>"
        f"<div class='body'><p>{POST} {POST}</p><p>{TESTIMONIAL}</p></div></div>"
        f"<div class='recommended'><h2>Recommended for you</h2><ul>{stream}</ul></div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Working with the team" in text
    assert "market hall" not in text


def test_a_player_and_its_settings_inside_the_post_are_left_out() -> None:
    """A box inside a post that holds more form fields and players than paragraphs, and no
    paragraph of its own (a video player with its caption settings), is not the text."""
    player = (
        "<div class='media'><video src='/v.mp4'></video><div>Text Edge Style</div>"
        "<select><option>Raised</option></select><div>Window Opacity</div>"
        "<select><option>Opaque</option></select><div>Reset to the defaults</div></div>"
    )
    html = page(
        f"<div><h1>The bakery has moved</h1><p>{POST} {COMMENT}</p>{player}"
        f"<p>{TESTIMONIAL} {POST}</p></div>"
    )
    text = extract_fast(html).text
    assert POST in text and "stock control" in text
    assert "Text Edge Style" not in text
    assert "Window Opacity" not in text


def test_a_box_with_a_form_field_and_a_paragraph_stays() -> None:
    """A box that holds a paragraph (or readability's ten commas) is prose, whatever form
    fields sit beside it: an order form under a recipe, a poll with its question."""
    box = (
        f"<div><p>{COMMENT} {TESTIMONIAL}</p><input type='text' name='q'>"
        "<textarea></textarea></div>"
    )
    html = page(f"<div><h1>The bakery has moved</h1><p>{POST} {COMMENT}</p>{box}</div>")
    text = extract_fast(html).text
    assert "stock control" in text


def test_text_outside_the_pages_one_article_is_left_out() -> None:
    """A page with one <article> marks its written piece: the rings of text around it (a
    newsletter box, a long legal notice at the foot of the page's wrapper) are not the
    post, however much prose they hold. A page of several articles marks nothing so."""
    notice = (
        "By providing information about events on this site, the publisher shall not be deemed "
        "to endorse, recommend, approve or guarantee such events, or any facts, views, advice "
        "or information contained therein, and readers should check with the organisers."
    )
    html = page(
        "<div class='wrap'><ul><li><a href='/'>Home</a></li><li><a href='/n'>News</a></li></ul>"
        "<div class='content'><h1>The bakery has moved</h1>"
        f"<article><p>{POST}</p><p>{TESTIMONIAL}</p></article></div>"
        "<div class='box'><div>Most popular</div><div>Today</div><div>This week</div></div>"
        f"<div class='policy'>{notice}</div></div>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Working with the team" in text
    assert "deemed to endorse" not in text


def test_an_unclosed_aside_around_main_does_not_swallow_the_page() -> None:
    # the announcement bar's <aside> is never closed: the parser puts <main> inside it
    html = page(
        "<aside class='banner'><div><a href='/news'><span>We joined a bigger bakery</span>"
        "</div></a>"
        f"<main><article><h1>The bakery has moved</h1><p>{POST}</p><p>{TESTIMONIAL}</p>"
        "</article></main>"
    )
    text = extract_fast(html).text
    assert POST in text and TESTIMONIAL.strip() in text


def test_customer_reviews_under_a_product_are_left_out() -> None:
    # readers' reviews are readers' text, as comments are: not the page's own
    description = (
        "Our sourdough loaf is baked overnight in a stone oven from organic rye and wheat, "
        "with a crust that stays crisp for three days and a soft, open crumb."
    )
    reviews = f"<div class='review'><span>Buyer 1</span><p>{COMMENT}</p></div>"
    html = page(
        f"<main><h1>Sourdough loaf</h1><div class='details'><p>{description}</p>"
        f"<p>{POST}</p><p>Price: 6.50</p></div>"
        f"<section class='product-reviews'><h2>Reviews</h2>{reviews}</section></main>"
    )
    text = extract_fast(html).text
    assert description in text
    assert COMMENT.strip() not in text


def _thread(replies: int = 6) -> str:
    """A forum thread: the opening post, a heading over the replies, replies in boxes
    named like readers' comments (as forum software names them)."""
    items = "".join(
        f"<div class='comment-item'><b>Member {i}</b><p>Reply {i}. {COMMENT}</p></div>"
        for i in range(replies)
    )
    return (
        f"<div><h1>Which oven for a small bakery?</h1><p>{POST}</p>"
        f"<h3>{replies} Replies</h3><div class='comments'>{items}</div></div>"
    )


def test_the_replies_of_a_discussion_are_its_text() -> None:
    """On a forum thread or a Q&A page the replies are the content: boxes named like
    comments are not chrome there, and the heading over them ends nothing."""
    html = page(_thread())
    threaded = extract_fast(html, discussion=True).text
    assert POST in threaded
    assert all(f"Reply {i}." in threaded for i in range(6))
    # the same markup under a post that is not a discussion: readers' comments go
    plain = extract_fast(html).text
    assert POST in plain
    assert "Reply 0." not in plain


def _extracted(url: str, head: str = "") -> str:
    from worker.extract.fast.page import extract_page
    from worker.model import Page

    html = (
        f"<!doctype html><html><head><title>Bakery</title>{head}</head>"
        f"<body>{_thread()}</body></html>"
    )
    return extract_page(Page(url=url, body=html, body_kind="html", input_format="raw")).text


def test_a_page_is_a_discussion_by_its_declared_type_or_a_forum_url() -> None:
    declared = (
        '<script type="application/ld+json">'
        '{"@context": "https://schema.org", "@type": "DiscussionForumPosting",'
        ' "headline": "Which oven for a small bakery?"}</script>'
    )
    assert "Reply 5." in _extracted("https://bakers.example/p/which-oven", declared)
    assert "Reply 5." in _extracted("https://bakers.example/forum/which-oven-123")
    assert "Reply 5." in _extracted("https://bakers.example/questions/881/which-oven")
    # a blog post under the same comments, with nothing saying it is a discussion
    blog = _extracted("https://bakers.example/blog/which-oven")
    assert POST in blog
    assert "Reply 0." not in blog


def test_a_comment_form_label_does_not_make_the_comment_heading_a_repeat() -> None:
    """The comment form's "Comments:" labels its text box: the section keeps one heading,
    which ends the text, and readers' comments with no class name stay out."""
    comments = "".join(f"<div><p>{COMMENT}</p><p>Posted by: Reader {i}</p></div>" for i in range(8))
    form = (
        "<form action='/comments'><p>Name:</p><input name='n'><p>Comments:</p>"
        "<textarea name='c'></textarea><input type='submit' value='Post'></form>"
    )
    html = page(
        f"<table><tr><td><h1>The bakery has moved</h1><p>{POST} {POST}</p>"
        f"<h2>Comments</h2>{comments}<h2>Post a comment</h2>{form}</td></tr></table>"
    )
    text = extract_fast(html).text
    assert POST in text
    assert "Congratulations" not in text
    # a second heading that is not a field label still marks a repeated structure
    repeated = html.replace("<p>Comments:</p>", "<h3>Comments</h3>")
    assert "Congratulations" in extract_fast(repeated).text


def test_the_pages_one_article_inside_a_box_named_like_chrome_is_the_text() -> None:
    """An article opened in a lightbox ("modal") over a stream of story teasers: the page's
    one <article> is its piece whatever the box around it is called; a box so named that
    holds no article stays chrome."""
    teasers = "".join(f"<div class='item'><p>{TESTIMONIAL} {i}</p></div>" for i in range(3))
    article = f"<article><h1>The bakery has moved</h1><p>{POST} {POST}</p></article>"
    html = page(f"<div class='stream'>{teasers}</div><div class='modal'><div>{article}</div></div>")
    text = extract_fast(html).text
    assert POST in text
    assert "stock control" not in text
    lone = f"<div><p>{POST} {POST}</p></div>"
    without = page(f"<div class='stream'>{teasers}</div><div class='modal'>{lone}</div>")
    assert POST not in extract_fast(without).text
